"""PDF text clean-up, chunk pages and the page in the CLI citation line, on hand-made lines and records."""

from __future__ import annotations

from rag.cli import print_answer
from rag.ingest.chunk import chunk_document
from rag.ingest.pdf import drop_running_lines, page_lines, reflow
from rag.records import Answer, Citation, Document, Outcome
from tests.fakes import HashEmbedder


def test_running_lines_are_found_by_repetition_not_position_alone() -> None:
    pages = [
        ["ACME annual report", "Revenue", "Revenue grew by 4 percent.", "Page 1"],
        ["ACME annual report", "Costs", "Costs fell.", "- 2 -", "Page 2"],
        ["Summary", "ACME annual report", "All is well.", "Page 3"],
    ]
    assert drop_running_lines(pages) == [
        ["Revenue", "Revenue grew by 4 percent."],
        ["Costs", "Costs fell.", "- 2 -"],
        ["Summary", "All is well."],
    ]
    assert drop_running_lines([["Only page", "Page 1"]]) == [["Only page", "Page 1"]]  # one page: nothing repeats
    front = [["Manual ii", "Contents"], ["Manual iii", "Index"], ["Manual iv", "Preface"]]  # roman page numbers
    assert drop_running_lines(front) == [["Contents"], ["Index"], ["Preface"]]


def test_a_table_of_contents_is_left_out_and_ordinary_dots_kept() -> None:
    page = "Contents\n3.1 网络 . . . . . . . . 2\n3.2 Servers ......... 14\nPreface ………… iv\nIt ends here. . . .\nWait...\n"
    assert page_lines(page) == ["Contents", "It ends here. . . .", "Wait..."]


def test_reflow_joins_lines_but_keeps_sentences_headings_and_cjk_apart() -> None:
    pages = [
        ["Salinity", "Salinity reached 4.2 grams per litre at Ben Tre in", "February after a long dry irri-"],
        ["gation season.", "2024年，越南大米出口量达到九百万", "吨，创历史新高。"],
    ]
    texts = reflow(pages)
    assert texts[0] == "Salinity\nSalinity reached 4.2 grams per litre at Ben Tre in February after a long dry irri"
    assert texts[1] == "gation season.\n2024年，越南大米出口量达到九百万吨，创历史新高。"


def test_chunks_know_their_pages_and_the_page_of_each_offset() -> None:
    pages = ["Alpha one. Alpha two. ", "Beta three. Beta four. ", "", "Gamma five. Gamma six."]
    text = "".join(pages)
    starts = (0, 22, 45, 45)  # the third page is blank
    doc = Document("r.pdf", "r.pdf", text, "Alpha one.", None, "en", "f", starts)
    chunks = chunk_document(doc, 2, HashEmbedder().count_tokens)
    assert [(c.page, c.page_at(c.end - 1)) for c in chunks] == [(1, 1), (2, 2), (4, 4)]
    whole = chunk_document(doc, 1000, HashEmbedder().count_tokens)[0]
    assert (whole.page, whole.page_breaks, whole.page_at(whole.end - 1)) == (1, (22, 45, 45), 4)
    assert [whole.page_at(o) for o in (0, 21, 22, 44, 45, len(text) - 1)] == [1, 1, 2, 2, 4, 4]
    unpaged = chunk_document(Document("n.txt", "n.txt", text, "", None, "en", "f"), 1000, len)[0]
    assert unpaged.page is None and unpaged.page_at(30) is None and unpaged.page_at(unpaged.end - 1) is None


def test_the_cli_citation_line_shows_the_page_beside_the_file_name(capsys) -> None:
    cited = (
        Citation(1, "report.pdf", 812, 915, "Salinity reached 4.2 g/l.", "Salinity", None, 3),
        Citation(2, "notes.txt", 10, 40, "The kiwi lays large eggs.", "Kiwi", "2024-05-01"),
    )
    print_answer(Answer("q?", "Quoted [1] [2]", "en", Outcome.ANSWERED, "Quoted [1] [2]", citations=cited))
    lines = capsys.readouterr().out.splitlines()
    assert "  [1] report.pdf p. 3, chars 812-915  Salinity reached 4.2 g/l." in lines
    assert "  [2] notes.txt:10-40, 2024-05-01  The kiwi lays large eggs." in lines


MAN_PAGE = """JOURNALD.CONF(5)                journald.conf                JOURNALD.CONF(5)

OPTIONS
       All options are configured in the [Journal] section:

       Storage=
           Controls where to store journal data. One of "volatile",
           "persistent", "auto" and "none". If "volatile", journal log data
           will be stored only in memory. Defaults to "auto" in the default
           journal namespace, and "persistent" in all others.

       RateLimitIntervalSec=, RateLimitBurst=
           Configures the rate limiting that is applied to all messages
           generated on the system. Defaults to 10000 messages in 30s.
"""


def test_a_hand_wrapped_text_has_its_paragraphs_joined_and_its_headings_kept() -> None:
    from rag.ingest.read import unwrap

    text = unwrap(MAN_PAGE)
    assert 'Controls where to store journal data. One of "volatile", "persistent", "auto" and "none".' in text
    assert 'in the default journal namespace, and "persistent" in all others.\n' in text
    assert "\n       Storage=\n" in text and "\n       RateLimitIntervalSec=, RateLimitBurst=\n" in text
    assert "all messages generated on the system." in text
    assert text.endswith("Defaults to 10000 messages in 30s.\n")
    markdown = "Steps to follow when the service is installed on a new machine\n" * 6
    markdown += "| setting | default value of the setting |\n" * 3 + "- the first item of a long list of items\n" * 3
    markdown += "```\nsome code that runs on for a whole line of text\nmore code that runs on for a line\n```\n"
    assert unwrap(markdown).count("\n") == markdown.count("\n") - 5  # the six plain lines, as one
    one_per_line = "Dòng đầu tiên là một đoạn văn dài, viết trên một dòng, không ngắt tay " * 3 + "\n"
    assert unwrap(one_per_line * 12) == one_per_line * 12  # a paragraph to a line: left as it is
