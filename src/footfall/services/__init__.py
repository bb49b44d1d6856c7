"""Use cases: each public function is one thing a user or agent can do, in one transaction."""
