"""The local stack's console and portal pages (infra/local/static.py): files, SPA fallback, problems."""

import base64

from infra.local import static


def _dist(tmp_path):
    (tmp_path / "console" / "assets").mkdir(parents=True)
    (tmp_path / "console" / "index.html").write_text("<html>console</html>")
    (tmp_path / "console" / "assets" / "app-1.js").write_text("console.log(1)")
    return tmp_path


def _text(answer):
    return base64.b64decode(answer["body"]).decode()


def test_pages_files_and_the_spa_fallback(tmp_path):
    dist = _dist(tmp_path)
    assert static.serves("/console") and static.serves("/portal/x") and not static.serves("/consoles")
    index = static.response("GET", "/console", dist)
    assert index["statusCode"] == 200 and _text(index) == "<html>console</html>"
    assert index["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert index["headers"]["Cache-Control"] == "no-cache"
    asset = static.response("GET", "/console/assets/app-1.js", dist)
    assert "javascript" in asset["headers"]["Content-Type"] and "immutable" in asset["headers"]["Cache-Control"]
    assert _text(static.response("GET", "/console/billing/invoices", dist)) == "<html>console</html>"


def test_missing_files_traversal_and_writes_are_problems(tmp_path):
    dist = _dist(tmp_path)
    (tmp_path / "secret.txt").write_text("no")
    for path in ("/console/assets/missing.js", "/console/../secret.txt"):
        answer = static.response("GET", path, dist)
        assert answer["statusCode"] == 404 and answer["headers"]["Content-Type"] == "application/problem+json"
    unbuilt = static.response("GET", "/portal/", dist)
    assert unbuilt["statusCode"] == 404 and "make web" in unbuilt["body"]
    assert static.response("POST", "/console", dist)["statusCode"] == 405
