#!/bin/sh
# Creates the secrets compose.yaml mounts, each a random value in ./secrets/ (once: an
# existing file is kept, so running it again never changes a key that sealed data).
# The folder is private to you (0700); the files are 0644 so that the containers' own
# users (Footfall runs as uid 10001) can read them where compose mounts them.
set -eu
cd "$(dirname "$0")/.."
umask 077
mkdir -p secrets
chmod 700 secrets

hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

put() {  # put NAME VALUE: write secrets/NAME unless it exists
  if [ -e "secrets/$1" ]; then
    echo "kept    secrets/$1"
  else
    printf '%s\n' "$2" > "secrets/$1"
    chmod 644 "secrets/$1"
    echo "created secrets/$1"
  fi
}

put postgres_password "$(hex 16)"
# The server's URL holds the same password as PostgreSQL's own secret.
put database_url "postgresql://footfall:$(tr -d '\n' < secrets/postgres_password)@postgres:5432/footfall"
put secret_key "$(head -c 32 /dev/urandom | base64)"
put admin_token "$(hex 16)"
put metrics_token "$(hex 16)"
put grafana_admin_password "$(hex 12)"
echo "Sign in to the dashboard with secrets/admin_token, to Grafana as admin with secrets/grafana_admin_password."
