"""The dev mail viewer (local/devmail.py): what it shows of a caught message's HTML (its API
runs on the real database in tests/integration/test_dev_mail.py)."""

from __future__ import annotations


def test_the_html_part_is_rebuilt_from_an_allow_list():
    from local.devmail import clean_html

    dirty = (
        "<html><head><style>p{color:red}</style><title>T</title></head><body>"
        '<p style="color:red" onclick="x()">Hi <a href="https://x.example/t?a=1&b=2">there</a>'
        '<a href="javascript:alert(1)">no</a></p><img src="https://t.example/p.gif">'
        '<script>alert(1)</script><table><tr><td colspan="2" style="x">c</td></tr></table>'
        "<center>old &lt;tag&gt;</center></body></html>"
    )
    assert clean_html(dirty) == (
        '<p>Hi <a href="https://x.example/t?a=1&amp;b=2">there</a><a>no</a></p>'
        '<table><tr><td colspan="2">c</td></tr></table>old &lt;tag&gt;'
    )
