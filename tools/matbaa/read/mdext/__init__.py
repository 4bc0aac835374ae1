"""markdown-it plugins for the parts of Pandoc's Markdown that markdown-it-py and
mdit-py-plugins do not have (or not in Pandoc's form).

    fancy_lists   ordered lists numbered 1. 1) (1) a) (a) A. i. (iv) …, with a start
    line_blocks   | verse and addresses, line by line, leading spaces kept
    blocks        fenced divs (::: epigraph), figures, table captions (Table: …)

Each adds tokens that render/tokens.py renders for print and for the EPUB.
"""
