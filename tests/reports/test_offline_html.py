"""Network references in a page are neutralised and listed, whatever their spelling."""

from __future__ import annotations

import re

import pytest

from cmlops.reports.offline_html import CSP_META, is_remote, neutralise

PAGE = "<html><head><title>t</title></head><body>{}</body></html>"


@pytest.mark.parametrize(
    ("markup", "url"),
    [
        ('<img src="https://a.example/x.png">', "https://a.example/x.png"),
        ("<IMG SRC='HTTP://a.example/x.png'>", "HTTP://a.example/x.png"),
        ("<img src=https://a.example/x.png>", "https://a.example/x.png"),
        ('<img src="//a.example/x.png">', "//a.example/x.png"),
        ('<img src=" \thttps://a.example/x.png">', " \thttps://a.example/x.png"),
        ('<img src="&#104;ttps://a.example/x.png">', "https://a.example/x.png"),
        ('<img src="ht\ntps://a.example/x.png">', "ht\ntps://a.example/x.png"),
        ('<img srcset="local.png 1x, https://a.example/x.png 2x">', None),
        ('<link rel="stylesheet" href="https://a.example/x.css">', "https://a.example/x.css"),
        ('<script src="https://a.example/x.js"></script>', "https://a.example/x.js"),
        ('<iframe src="https://a.example/"></iframe>', "https://a.example/"),
        ('<video poster="https://a.example/p.png"></video>', "https://a.example/p.png"),
        ('<object data="https://a.example/o.swf"></object>', "https://a.example/o.swf"),
        ('<svg><image href="https://a.example/s.png"/></svg>', "https://a.example/s.png"),
        ('<svg><use xlink:href="https://a.example/s.svg#i"/></svg>', "https://a.example/s.svg#i"),
        ('<base href="https://a.example/">', "https://a.example/"),
        ('<form action="https://a.example/post"></form>', "https://a.example/post"),
        ('<table background="https://a.example/bg.png"></table>', "https://a.example/bg.png"),
        ('<meta http-equiv="refresh" content="0; url=https://a.example/">', None),
        ('<div style="background: url(https://a.example/bg.png)">x</div>', None),
        ("<style>@import 'https://a.example/x.css'; p{color:red}</style>", None),
        ('<style>p { background: url("//a.example/bg.png") }</style>', None),
        ('<source src="wss://a.example/stream">', "wss://a.example/stream"),
    ],
)
def test_each_spelling_is_neutralised_and_listed(markup: str, url: str | None) -> None:
    page, found = neutralise(PAGE.format(markup))
    assert found, markup
    if url is not None:
        assert found[0].url == url
    body = page.split("</head>")[1]
    assert not re.search(
        r"(?<![\w-])(src|srcset|href|poster|data|action|background|content)\s*=\s*[\"']?[^\"'>]*a\.example",
        body.replace("\n", "").replace("\t", ""),
        re.IGNORECASE,
    ), page
    assert not re.search(r"url\(\s*[\"']?(https:)?//a\.example", body)
    assert "a.example/x.css'" not in body.split("@import")[-1] if "@import" in body else True


@pytest.mark.parametrize(
    "markup",
    [
        '<a href="https://guidance.example/">a link is not a load</a>',
        '<img src="data:image/png;base64,iVBORw0KGgo=">',
        '<img src="figure.png">',
        '<img src="#frag">',
        "<p>see https://a.example/ in the text</p>",
        '<div style="color:red">styled</div>',
    ],
)
def test_local_references_links_and_text_are_kept(markup: str) -> None:
    page, found = neutralise(PAGE.format(markup))
    assert found == []
    assert markup in page


def test_scripts_are_left_alone_and_csp_comes_first() -> None:
    code = "var u = '<img src=\"https://tiles.example/{z}.png\">'; fetch('https://x.example');"
    page, found = neutralise(PAGE.format(f"<script>{code}</script>"))
    assert found == []
    assert code in page  # plotly.js and its JSON mention URLs: never rewritten
    head = page.split("<head>", 1)[1]
    assert head.startswith(CSP_META)  # the policy also stops what a script would fetch
    assert "default-src 'none'" in CSP_META and "connect-src 'none'" in CSP_META


def test_remote_detection() -> None:
    assert is_remote("https://x") and is_remote("//x") and is_remote(" HTTP://x")
    assert is_remote("ftp://x") and is_remote("a.png 1x, https://b/c.png 2x")
    assert not is_remote("data:image/png;base64,AAAA") and not is_remote("figure.png")
    assert not is_remote("blob:abc") and not is_remote("#id")


def test_found_once_each_and_in_order() -> None:
    markup = '<img src="https://a/1.png"><img src="https://a/2.png"><img src="https://a/1.png">'
    _page, found = neutralise(PAGE.format(markup))
    assert [f.url for f in found] == ["https://a/1.png", "https://a/2.png"]
