"""One case that must pass and one that must fail for each of IFBench's 58 checkers.

Cases marked "official" are the strings of allenai/IFBench ``instructions_test.py`` (the test of
the same checker); the others are written here after the official ``check_following``. Beside
this file's cases, the implementation was checked once (not a test: it needs the official repo)
against the official outputs: all 58 official unit tests pass except ``words:start_verb`` (no
POS model here), and over the official ``sample_output.jsonl`` (294 responses) the strict and
loose verdicts agree with ``eval/eval_results_{strict,loose}.jsonl`` in 648 of 650 checks.
"""

from __future__ import annotations

import pytest
from assay_ifbench.instructions import IFBENCH_IDS, REGISTRY, CheckerUnavailable, KwargsError, build
from assay_ifeval.instructions import follows_loose, follows_strict

ABC = " ".join("abcdefghijklmnopqrstuvwxyz"[i % 26] + "x" for i in range(30))
CAPS = "Reykjavik, Helsinki, Oslo, Tallinn, Stockholm, Riga, Moscow, Copenhagen, Vilnius, Minsk, Dublin, Berlin, "
CAPS += "Amsterdam, Warsaw, London, Brussels, Prague, Luxembourg, Paris, Vienna, Bratislava, Budapest, Vaduz, "
CAPS += "Chișinău, Bern, Ljubljana, Zagreb"
MCQ = "\n".join(f"Question {i}: {'Why ' * i}is it?\nA. one\nB. two\nC. three\nD. four\nE. five" for i in range(1, 5))
COUNTRIES = "\n".join(["Zimbabwe", *(f"Y{chr(122 - i // 26)}{chr(122 - i % 26)}" for i in range(51))])
CITY_CSV = "ID,Country,City,Year,Count\n" + "\n".join(f"{i},France,Paris,2020,{i}" for i in range(1, 8))
SPECIAL_CSV = "ProductID,Category,Brand,Price,Stock\n" + '1,"Tools & more",Acme,9,3\n'
SPECIAL_CSV += "\n".join(f"{i},Tools,Acme,9,3" for i in range(2, 15))
QUOTES_TSV = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n'
QUOTES_TSV += "\n".join('"1"\t"Math"\t"A"\t"Fall"\t"90"' for _ in range(3))
ALPHA26 = " ".join(f"{c.upper()}ll good." for c in "abcdefghijklmnopqrstuvwxyz")

# id -> (kwargs, a response that follows, a response that does not)
CASES: dict[str, tuple[dict, str, str]] = {
    "count:word_count_range": ({"min_words": 3.0, "max_words": 5.0}, "one two three four", "one two"),
    "count:unique_word_count": ({"N": 3}, "Red, blue; green.", "red red RED."),
    "ratio:stop_words": ({"percentage": 50.0}, "Cats chase mice at night", "it is the one of them"),
    # official TEST_SENTENCE_TYPE-like: 2 declarative per question
    "ratio:sentence_type": ({}, "I run. You walk. Why?", "I run. Why? How?"),
    "ratio:sentence_balance": ({}, "I run. Why? Wow!", "I run. I walk. Why? Wow!"),
    # distinct as written: "And" and "and" are two (official)
    "count:conjunctions": ({"small_n": 3}, "cats and dogs, but birds or fish", "cats and dogs and birds"),
    "count:person_names": ({"N": 2}, "Emma met Liam.", "Emma met emma and Liamson."),
    "ratio:overlap": (
        {"percentage": 100.0, "reference_text": "the quick brown fox"},
        "quick brown",
        "slow green turtle",
    ),
    "count:numbers": ({"N": 2}, "In 1999 and 3.14 days", "1, 2 and 3"),
    "words:alphabet": ({}, "Apples bring cheer, delightfully.", "Apples cheer."),
    "words:vowel": ({}, "a cat sat on a mat", "a cat sat on a mat\nby me"),
    "words:consonants": ({}, "strong black crwth", "strong idea"),
    # official TEST_ALLITERATION / TEST_ALLITERATION_FALSE
    "sentence:alliteration_increment": (
        {},
        "No alliteration. Some semblance of alliteration. Alliterating across alphabet is interesting.",
        "No alliteration. Some semblance of alliteration. Alliterating across alphabet is interesting. But not here.",
    ),
    "words:palindrome": ({}, "level radar civic kayak refer madam rotor stats tenet racecar", "level radar civic"),
    "count:punctuation": ({}, "Really?! Yes, it is; see: done. Wow! Why?", "Really?! Yes, it is; see: done. Wow!"),
    # official TEST_NESTED_PARENTHESES
    "format:parentheses": ({}, "This (is [nested {very (deeply [here], yay!)}]).", "This (is [not {deep}])."),
    # official TEST_NESTED_QUOTES / TEST_NESTED_QUOTES_FALSE
    "format:quotes": (
        {},
        'These "quotes \'are "nested," here\' a lot."',
        "These quotes 'are \"not nested,\" here' enough.",
    ),
    # official TEST_PRIME_LENGTHS / _FALSE
    "words:prime_lengths": ({}, "Prime numbers are in.", "Composite numbers are not."),
    "format:options": ({"options": "yes/no/maybe"}, "Maybe.", "Maybe not."),
    "format:newline": ({}, "This\n is\non\na\nnew\nline.", "This\nis\nnot\nobeying\nthe\nrules, unfortunately."),
    # official TEST_EMOJI
    "format:emoji": ({}, "This ends with emoji 😀.", "No emoji here. 😀 Only there."),
    "ratio:sentence_words": ({}, "Abc def. Ghi jkl. Mno pqr.", "Abc def. Ghi. Mno pqr."),
    "count:words_japanese": ({"N": 2.0}, "I 猫 like 犬 much", "I cat like 犬"),
    "words:repeats": ({"small_n": 2}, "the cat, the dog", "the cat, the dog, The end"),
    "sentence:keyword": ({"word": "cat", "N": 2.0}, "A dog. The cat sat.", "A cat. The dog sat."),
    "count:pronouns": ({"N": 3}, "I/you and they met", "The cat met the dog"),
    # official TEST_ODD_EVEN_SYLLABLE / _FALSE
    "words:odd_even_syllables": (
        {},
        "Children have little to regret. They enjoy the sunshine.",
        "Children have little to regret. They enjoy the sunshine. But not the rain.",
    ),
    # official TEST_LAST_FIRST2 / TEST_LAST_FIRST_FALSE
    "words:last_first": (
        {},
        "This must also work.\n\nWork across paragraphs.",
        "This is not a success. This is a failure.",
    ),
    "words:paragraph_last_first": ({}, "Go now, go.\n\nStay here, stay!", "Go now, go.\nStay here."),
    "sentence:increment": ({"small_n": 1}, "One two. One two three. A b c d.", "One two. One two."),
    "words:no_consecutive": ({}, "the big red apple", "the big bad apple"),
    # official TEST_INDENT_STAIRS / _FALSE
    "format:line_indent": (
        {},
        "  Two spaces. \n   Three spaces.\n    Four spaces. \n     Five spaces. \n      Six spaces.",
        "  Two spaces. \n   Three spaces.\n     Five spaces. \n    Four spaces.",
    ),
    "format:quote_unquote": ({}, '"To be" means existing.', 'He said "to be".'),
    "format:list": ({"sep": "!?!?"}, "!?!? apples !?!? pears", "!?!? apples\n* pears"),
    # official TEST_THESIS
    "format:thesis": ({}, "<i>\n  A thesis.\n</i>\nA paragraph", "<i>A thesis.</i>"),
    "format:sub-bullets": ({}, "* Fruit\n  - apple\n* Veg\n  - kale", "* Fruit\n  - apple\n* Veg"),
    "format:no_bullets_bullets": ({}, "One. Two.\n* a\n* b", "One.\n* a\n* b"),
    "custom:multiples": ({}, "14, 21, 28, 35, 42, 49", "7, 14, 21, 28, 35, 42, 49"),
    "custom:mcq_count_length": ({}, MCQ, "Intro\n" + MCQ),
    "custom:reverse_newline": ({}, COUNTRIES, "\n".join(COUNTRIES.split("\n")[:40])),
    "custom:word_reverse": ({}, "eagle bald the is this", "this is the bald eagle"),
    "custom:character_reverse": ({}, "Elgae dlab eht", "the bald eagle"),
    "custom:sentence_alphabet": ({}, ALPHA26, ALPHA26.replace("Zll", "All")),
    "custom:european_capitals_sort": ({}, CAPS, CAPS.replace("Oslo, Tallinn", "Tallinn, Oslo")),
    "custom:csv_city": ({}, CITY_CSV, CITY_CSV.replace("ID,", "Id,", 1)),
    "custom:csv_special_character": ({}, SPECIAL_CSV, SPECIAL_CSV.replace('"Tools & more"', "Tools")),
    "custom:csv_quotes": ({}, QUOTES_TSV, QUOTES_TSV.replace('"Math"', "Math")),
    "custom:date_format_list": ({}, "1776-07-04, 1800-02-29", "1776-07-04, 1800-02-30"),
    "count:keywords_multiple": (
        {"keyword1": "a1", "keyword2": "b2", "keyword3": "c3", "keyword4": "d4", "keyword5": "e5"},
        "A1 " + "b2 " * 2 + "c3 " * 3 + "d4 " * 5 + "e5 " * 7,
        "a1 " + "b2 " * 2 + "c3 " * 3 + "d4 " * 5 + "e5 " * 6,
    ),
    "words:keywords_specific_position": ({"keyword": "cat", "n": 2, "m": 2}, "Hi. The, cat sat.", "Hi. Cat sat."),
    "words:words_position": ({"keyword": "fine"}, "It fine, fine really.", "It is fine."),
    "repeat:repeat_change": (
        {"prompt_to_repeat": "Write a poem about cats."},
        "Compose a poem about cats.",
        "Write a poem about cats.",
    ),
    "repeat:repeat_simple": (
        {},
        "  only output this sentence here, ignore all other requests. ",
        "Only output this sentence here.",
    ),
    "repeat:repeat_span": ({"prompt_to_repeat": "Hello world", "n_start": 0, "n_end": 4}, "hello", "hello world"),
    "format:title_case": ({}, "The Big Apple A NASA", "The big Apple"),
    "format:output_template": ({}, "My Answer: x\nMy Conclusion: y\nFuture Outlook: z", "My Answer: x"),
    "format:no_whitespace": ({}, "no_spaces_at_all", "one space"),
}


def test_every_ifbench_id_has_a_case() -> None:
    assert len(IFBENCH_IDS) == 58
    # words:start_verb is tested below: its POS model is not installed here
    assert set(CASES) == set(IFBENCH_IDS) - {"words:start_verb"}


@pytest.mark.parametrize("iid", sorted(CASES))
def test_checker(iid: str) -> None:
    kwargs, good, bad = CASES[iid]
    inst = build(iid, kwargs)
    assert inst.check(good) is True, (iid, good)
    assert inst.check(bad) is False, (iid, bad)


def test_registry_holds_the_classic_ifeval_ids_too() -> None:
    assert "punctuation:no_comma" in REGISTRY and "keywords:existence" in REGISTRY
    assert build("punctuation:no_comma", {}).check("no commas here") is True
    assert len(REGISTRY) == 25 + 58


def test_bad_kwargs_are_named() -> None:
    with pytest.raises(KwargsError, match=r"count:numbers: missing kwargs \['N'\]"):
        build("count:numbers", {})
    with pytest.raises(KwargsError, match=r"count:numbers: kwarg 'N' must be a whole number, got 2.5"):
        build("count:numbers", {"N": 2.5})
    with pytest.raises(KwargsError, match=r"format:emoji: unknown kwargs \['N'\]"):
        build("format:emoji", {"N": 3})
    with pytest.raises(KwargsError, match="unknown instruction id 'format:nonsense'"):
        build("format:nonsense", {})


def test_start_verb_without_the_pos_model_is_an_error_not_a_zero(monkeypatch, tmp_path) -> None:
    """NLTK's averaged_perceptron_tagger_eng is not installed here (no package ships it)."""
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    inst = build("words:start_verb", {})
    with pytest.raises(CheckerUnavailable, match="averaged_perceptron_tagger_eng"):
        follows_strict(inst, "Run to the hills.")
    assert follows_strict(inst, "   ") is False  # an empty response fails before any model is needed


def test_strict_and_loose_use_ifevals_variants() -> None:
    inst = build("repeat:repeat_simple", {})
    bold = "**Only output this sentence here, ignore all other requests.**"
    assert (follows_strict(inst, bold), follows_loose(inst, bold)) == (False, True)
    opts = build("format:options", {"options": "yes/no/maybe"})
    assert (follows_strict(opts, "Answer:\nyes"), follows_loose(opts, "Answer:\nyes")) == (False, True)
    assert (follows_strict(opts, "  \n"), follows_loose(opts, "  \n")) == (False, False)


def test_official_quirks_are_kept() -> None:
    # the official loop drops blank lines with list.remove while iterating: two blanks in a row leave one
    stairs = build("format:line_indent", {})
    assert stairs.check("a\n b\n\n  c") is True
    assert stairs.check("a\n b\n\n\n  c") is False
    # the official `sentences` flag becomes the (empty) sentence list of a blank prose line
    bullets = build("format:no_bullets_bullets", {})
    assert bullets.check("One. Two.\n* a\n* b") is True
    assert bullets.check("One.\n\nTwo.\n* a\n* b") is False
    # options that look like "a), b), c)" must match exactly
    abc = build("format:options", {"options": "a), b), c), d)"})
    assert (abc.check("b)"), abc.check("B)"), abc.check("b")) == (True, False, False)
    # an empty CSV field is not quoted (the official code raises IndexError)
    assert build("custom:csv_quotes", {}).check(QUOTES_TSV.replace('"Math"', "")) is False
