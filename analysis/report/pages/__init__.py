"""One helper module per book page, holding that page's computations (the page only calls them).

``intro`` → book/intro.md, ``survey`` → book/survey.md, ``index`` → book/index.md,
``sensitivity``, ``problems``, ``determinants``, ``provinces`` (official statistics),
``reproduction``, ``methods``, ``reproducibility``, ``cite``, ``compare``; ``common`` holds what
several pages share.
"""
