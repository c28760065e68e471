"""
Cross-site scripting payloads for ``test_xss``.

Each one, if a page ever let it run, either opens a dialog (``alert``) or
sets ``window.__xss``; the browser test listens for both. They cover script
tags, event attributes, ``javascript:``/``data:``/``vbscript:`` URLs, SVG and
MathML, CSS, Markdown links and images, HTML entities and encodings, comment
and parser tricks, template syntax and Unicode direction overrides.
"""

PAYLOADS = [
    "<script>alert(1)</script>",
    "<script>window.__xss=1</script>",
    "<ScRiPt>window.__xss=1</sCrIpT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="window.__xss=1">',
    '<img src=x onerror="&#97;lert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>window.__xss=1</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    '"><script>window.__xss=1</script>',
    "'><script>window.__xss=1</script>",
    "'';!--\"<XSS>=&{()}",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:window.__xss=1)",
    "![x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    '[x](https://example.org "\\"><script>window.__xss=1</script>")',
    "<iframe src=javascript:alert(1)>",
    "<style>@import 'javascript:alert(1)'</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#106;avascript:alert(1)",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=window.__xss=1>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "</textarea><script>window.__xss=1</script>",
    "</title><script>window.__xss=1</script>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<scr<script>ipt>window.__xss=1</scr</script>ipt>",
    "`<script>window.__xss=1</script>`",
    "%3Cscript%3Ewindow.__xss=1%3C/script%3E",
    "\\x3cscript\\x3ewindow.__xss=1\\x3c/script\\x3e",
    "{{7*7}}",
    "{% debug %}",
    "evil\u202etxt.exe",
    "\u2066<script>window.__xss=1</script>\u2069 \u202ereversed",
]

# Web addresses that are valid http(s) URLs but try to break out of an attribute.
URL_PAYLOADS = [
    'https://example.org/"><script>window.__xss=1</script>',
    "https://example.org/'onmouseover='window.__xss=1",
    'https://example.org/?q="onfocus="alert(1)"autofocus="',
    "https://example.org/#<img/src/onerror=alert(1)>",
]
