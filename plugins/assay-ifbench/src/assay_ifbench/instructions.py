"""The 58 out-of-distribution verifiable constraints of IFBench (Pyatkin et al., 2025), one checker each.

Written for assay after allenai/IFBench ``ifbench/instructions.py`` (the ``check_following`` of
each class named in the docstrings below) and ``ifbench/instructions_registry.py`` (the ids):
the same tokenisation, thresholds and edge cases, so the scores match the official ones. The
25 classic IFEval ids that IFBench's registry also lists are IFEval's checkers, taken from
:mod:`assay_ifeval.instructions` (one implementation for both benchmarks).

Kwargs come from the row (``None`` values dropped, as the official strict evaluation does);
the official code draws a random value for a missing one, here a missing one is an error.
Whole-number floats (the hub data stores ``N: 5.0``) become ints.

Deviations, each where the official code would crash rather than score: a response with no
sentence at all for ``sentence:increment``, and an empty CSV field for ``custom:csv_quotes``,
count as not followed. ``words:start_verb`` needs NLTK's ``averaged_perceptron_tagger_eng``
model, which ships with no package: when NLTK cannot find it, the check raises
:class:`CheckerUnavailable` (the sample is recorded as a scoring error, not silently scored).
"""

from __future__ import annotations

import csv
import io
import re
import string
import unicodedata
from collections import Counter
from typing import Any, ClassVar

from assay_ifeval import text as T
from assay_ifeval.instructions import REGISTRY as IFEVAL_REGISTRY
from assay_ifeval.instructions import Instruction, KwargsError

PUNCT = string.punctuation
_NO_PUNCT = str.maketrans("", "", PUNCT)
INT_KW = {"N", "small_n", "n", "m", "min_words", "max_words", "n_start", "n_end"}
NUM = (int, float)

# NLTK's English stopword list (nltk_data corpora/stopwords/english), the words without an
# apostrophe: count_stopwords compares ``\w+`` tokens, which never hold one, so the list's
# contractions ("don't", "you're", ...) cannot match and are left out.
STOPWORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is are
    was were be been being have has had having do does did doing a an the and but if or because as until while
    of at by for with about against between into through during before after above below to from up down in out
    on off over under again further then once here there when where why how all any both each few more most
    other some such no nor not only own same so than too very s t can will just don should now d ll m o re ve
    y ain aren couldn didn doesn hadn hasn haven isn ma mightn mustn needn shan shouldn wasn weren won
    wouldn""".split()
)


class CheckerUnavailable(RuntimeError):
    """The checker needs data that is not installed (the sample is a counted scoring error, not a silent 0)."""


class Checker(Instruction):
    """IFEval's kwargs validation (:class:`assay_ifeval.instructions.Instruction`), with the hub's
    whole-number floats (``5.0``) accepted for integer kwargs."""

    def __init__(self, **kwargs: Any) -> None:
        for k in INT_KW & set(kwargs):
            v = kwargs[k]
            if isinstance(v, float):
                if not v.is_integer():
                    raise KwargsError(f"{self.id}: kwarg {k!r} must be a whole number, got {v!r}")
                kwargs[k] = int(v)
        super().__init__(**kwargs)


REGISTRY: dict[str, type[Instruction]] = dict(IFEVAL_REGISTRY)  # the classic ids first, as the official registry
IFBENCH_IDS: list[str] = []  # the 58 new ones, in the official registry's order


def register(cls: type[Checker]) -> type[Checker]:
    REGISTRY[cls.id] = cls
    IFBENCH_IDS.append(cls.id)
    return cls


def build(instruction_id: str, kwargs: dict[str, Any] | None) -> Instruction:
    cls = REGISTRY.get(instruction_id)
    if cls is None:
        raise KwargsError(f"unknown instruction id {instruction_id!r}; known: {', '.join(sorted(REGISTRY))}")
    return cls(**(kwargs or {}))


def _sentences(text: str) -> list[str]:
    """``nltk.sent_tokenize`` (English Punkt, in memory: :mod:`assay_ifeval.text`)."""
    return T.split_sentences(text)


def _strip_p(word: str) -> str:
    return word.strip(PUNCT + " ")


# ---- count ---------------------------------------------------------------------------


@register
class WordCountRange(Checker):
    """WordCountRangeChecker: min_words <= ``\\w+`` tokens <= max_words."""

    id = "count:word_count_range"
    required: ClassVar[dict[str, Any]] = {"min_words": int, "max_words": int}

    def check(self, response: str) -> bool:
        return self.kw["min_words"] <= T.count_words(response) <= self.kw["max_words"]


@register
class UniqueWordCount(Checker):
    """UniqueWordCountChecker: at least N distinct lower-cased whitespace words, punctuation stripped at the ends."""

    id = "count:unique_word_count"
    required: ClassVar[dict[str, Any]] = {"N": int}

    def check(self, response: str) -> bool:
        return len({_strip_p(w) for w in response.lower().split()}) >= self.kw["N"]


@register
class StopWordPercentage(Checker):
    """StopWordPercentageChecker: stopword ``\\w+`` tokens are at most ``percentage`` % of all (no words: False)."""

    id = "ratio:stop_words"
    required: ClassVar[dict[str, Any]] = {"percentage": NUM}

    def check(self, response: str) -> bool:
        tokens = T.words(response)
        if not tokens:
            return False
        stop = sum(1 for t in tokens if t.lower() in STOPWORDS)
        return stop / len(tokens) * 100 <= self.kw["percentage"]


@register
class SentTypeRatio(Checker):
    """SentTypeRatioChecker: sentences ending in "." are exactly twice those ending in "?"."""

    id = "ratio:sentence_type"

    def check(self, response: str) -> bool:
        sents = _sentences(response)
        return sum(s.endswith(".") for s in sents) == 2 * sum(s.endswith("?") for s in sents)


@register
class SentBalance(Checker):
    """SentBalanceChecker: as many sentences end in "." as in "?" as in "!"."""

    id = "ratio:sentence_balance"

    def check(self, response: str) -> bool:
        sents = _sentences(response)
        d, q, e = (sum(s.endswith(c) for s in sents) for c in ".?!")
        return d == q == e


@register
class ConjunctionCount(Checker):
    """ConjunctionCountChecker: at least small_n distinct whitespace words that are coordinating conjunctions once
    stripped of punctuation and lower-cased; distinct as written ("And" and "and" are two, as officially)."""

    id = "count:conjunctions"
    required: ClassVar[dict[str, Any]] = {"small_n": int}
    CONJ = ("and", "but", "for", "nor", "or", "so", "yet")

    def check(self, response: str) -> bool:
        found = {w for w in response.split() if _strip_p(w).lower() in self.CONJ}
        return len(found) >= self.kw["small_n"]


PERSON_NAMES = (
    "Emma Liam Sophia Jackson Olivia Noah Ava Lucas Isabella Mason Mia Ethan Charlotte Alexander Amelia Benjamin "
    "Harper Leo Zoe Daniel Chloe Samuel Lily Matthew Grace Owen Abigail Gabriel Ella Jacob Scarlett Nathan Victoria "
    "Elijah Layla Nicholas Audrey David Hannah Christopher Penelope Thomas Nora Andrew Aria Joseph Claire Ryan Stella "
    "Jonathan"
).split()


@register
class PersonNameCount(Checker):
    """PersonNameCountChecker: at least N of the 50 listed names occur as whole words (case-sensitive)."""

    id = "count:person_names"
    required: ClassVar[dict[str, Any]] = {"N": int}

    def check(self, response: str) -> bool:
        hits = sum(1 for n in PERSON_NAMES if re.search(r"\b" + re.escape(n) + r"\b", response))
        return hits >= self.kw["N"]


def _char_trigrams(text: str) -> set[tuple[str, str, str]]:
    return set(zip(text, text[1:], text[2:]))  # nltk.ngrams(text, 3) over characters


@register
class NGramOverlap(Checker):
    """NGramOverlapChecker: the share of the response's distinct character trigrams found in reference_text is
    within +-2 points of ``percentage``."""

    id = "ratio:overlap"
    required: ClassVar[dict[str, Any]] = {"reference_text": str, "percentage": NUM}

    def check(self, response: str) -> bool:
        grams = _char_trigrams(response)
        if not grams:
            return False
        overlap = len(grams & _char_trigrams(self.kw["reference_text"])) / len(grams) * 100
        return self.kw["percentage"] - 2 <= overlap <= self.kw["percentage"] + 2


@register
class NumbersCount(Checker):
    """NumbersCountChecker: exactly N runs of digits once punctuation is removed ("3.14" is one number)."""

    id = "count:numbers"
    required: ClassVar[dict[str, Any]] = {"N": int}

    def check(self, response: str) -> bool:
        return len(re.findall(r"\d+", response.translate(_NO_PUNCT))) == self.kw["N"]


# ---- words ---------------------------------------------------------------------------


@register
class AlphabetLoop(Checker):
    """AlphabetLoopChecker: word i starts with the letter after word i-1's (z wraps to a); the first word's first
    character must be an ASCII letter."""

    id = "words:alphabet"

    def check(self, response: str) -> bool:
        words = _strip_p(response.translate(_NO_PUNCT)).split()
        if not words:
            return False
        letter = words[0][0].lower()
        abc = string.ascii_lowercase
        if letter not in abc:
            return False
        for w in words[1:]:
            w = _strip_p(w).lower()
            if not w:
                continue
            letter = abc[(abc.index(letter) + 1) % 26]
            if w[0] != letter:
                return False
        return True


@register
class SingleVowelParagraph(Checker):
    """SingleVowelParagraphChecker: one line (after strip), using at most three distinct vowels of a, e, i, o, u."""

    id = "words:vowel"

    def check(self, response: str) -> bool:
        lines = response.strip().split("\n")
        return len(lines) == 1 and len(set(lines[0].lower()) & set("aeiou")) <= 3


@register
class ConsonantCluster(Checker):
    """ConsonantClusterChecker: every lower-cased whitespace word has two adjacent ASCII consonants (y included)."""

    id = "words:consonants"
    CONS = frozenset("bcdfghjklmnpqrstvwxyz")

    def check(self, response: str) -> bool:
        c = self.CONS
        return all(any(a in c and b in c for a, b in zip(w, w[1:])) for w in response.lower().strip().split())


@register
class IncrementingAlliteration(Checker):
    """IncrementingAlliterationChecker: per sentence, alliteration = words in runs of adjacent words sharing their
    first character (leading punctuation stripped); it must grow strictly from sentence to sentence."""

    id = "sentence:alliteration_increment"

    def check(self, response: str) -> bool:
        prev = -1
        for sent in _sentences(response):
            words = [w for w in (x.lstrip(PUNCT + " ") for x in sent.lower().split()) if w]
            score, in_run = 0, False
            for a, b in zip(words, words[1:]):
                if a[0] == b[0]:
                    score += 1 if in_run else 2
                    in_run = True
                else:
                    in_run = False
            if score <= prev:
                return False
            prev = score
        return True


@register
class Palindrome(Checker):
    """PalindromeChecker: at least 10 whitespace words (punctuation removed, lower-cased) of 5+ characters are
    palindromes (repeats count)."""

    id = "words:palindrome"

    def check(self, response: str) -> bool:
        words = response.translate(_NO_PUNCT).lower().split()
        return sum(1 for w in words if len(w) >= 5 and w == w[::-1]) >= 10


@register
class PunctuationCover(Checker):
    """PunctuationCoverChecker: an interrobang ("!?", "?!" or "‽") and, besides one "?!" (else one "!?") taken out,
    each of . , ! ? ; : somewhere."""

    id = "count:punctuation"

    def check(self, response: str) -> bool:
        if not ("!?" in response or "?!" in response or "‽" in response):
            return False
        rest = response.replace("?!", "", 1)
        if len(rest) == len(response):
            rest = response.replace("!?", "", 1)
        return set(".,!?;:") <= set(rest)


@register
class NestedParentheses(Checker):
    """NestedParenthesesChecker: brackets ()[]{} nested at least 5 deep; a closing bracket that does not match
    resets the count; true as soon as a matched close happens after reaching depth 5."""

    id = "format:parentheses"
    PAIRS: ClassVar[dict[str, str]] = {")": "(", "]": "[", "}": "{"}

    def check(self, response: str) -> bool:
        stack: list[str] = []
        deepest = 0
        for ch in response:
            if ch in "([{":
                stack.append(ch)
                deepest = max(deepest, len(stack))
            elif ch in self.PAIRS:
                if stack and stack[-1] == self.PAIRS[ch]:
                    stack.pop()
                    if deepest >= 5 and len(stack) < deepest:
                        return True
                else:
                    stack, deepest = [], 0
        return False


@register
class NestedQuotes(Checker):
    """NestedQuotesChecker: quotes (" and ') nested at least 3 deep: a quote character equal to the innermost open
    one closes it, any other opens a level; true once 3 levels below the deepest have closed."""

    id = "format:quotes"

    def check(self, response: str) -> bool:
        stack: list[str] = []
        reached = depth = 0
        for ch in response:
            if stack and ch == stack[-1]:
                stack.pop()
                depth -= 1
                if reached - depth >= 3:
                    return True
            elif ch in "\"'":
                stack.append(ch)
                depth += 1
                reached = max(reached, depth)
        return False


PRIMES = frozenset((2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97))


@register
class PrimeLengths(Checker):
    """PrimeLengthsChecker: every whitespace word (punctuation removed) has a prime length below 100."""

    id = "words:prime_lengths"

    def check(self, response: str) -> bool:
        return all(len(w) in PRIMES for w in response.translate(_NO_PUNCT).split())


@register
class OptionsResponse(Checker):
    """OptionsResponseChecker: the response is one of the options. Options split on "/", else on "or" (as a
    substring), else on ","; options that look like "a), b), c)" must match exactly, others after stripping
    punctuation and case."""

    id = "format:options"
    required: ClassVar[dict[str, Any]] = {"options": str}

    def setup(self, **kw: Any) -> None:
        opts = kw["options"]
        self.exact = re.match(r"\W*[aA]\W*[bB]\W*[cC]\W*", opts) is not None
        sep = "/" if "/" in opts else "or" if "or" in opts else ","
        self.options = [o.strip() for o in opts.split(sep)]

    def check(self, response: str) -> bool:
        if self.exact:
            return response in self.options
        value = _strip_p(response).lower()
        return any(_strip_p(o).lower() == value for o in self.options)


@register
class NewLineWords(Checker):
    """NewLineWordsChecker: one word per line (punctuation removed; blank lines ignored)."""

    id = "format:newline"

    def check(self, response: str) -> bool:
        value = response.translate(_NO_PUNCT)
        lines = [x for x in value.strip().split("\n") if x != ""]
        return len(lines) == len(value.strip().split())


@register
class EmojiSentence(Checker):
    """EmojiSentenceChecker: each sentence (punctuation removed) ends with an emoji in its last or second-last
    character, or else the next sentence starts with one; the last sentence must end with one."""

    id = "format:emoji"

    def check(self, response: str) -> bool:
        import emoji

        sents = _sentences(response)
        for i, sent in enumerate(sents):
            s = sent.translate(_NO_PUNCT).strip()
            if not s:
                return False
            if emoji.is_emoji(s[-1]) or emoji.is_emoji(s[-2] if len(s) > 1 else s[-1]):
                continue
            if i == len(sents) - 1:
                return False
            nxt = sents[i + 1].translate(_NO_PUNCT).strip()
            if not nxt or not emoji.is_emoji(nxt[0]):
                return False
        return True


@register
class CharacterCountUniqueWords(Checker):
    """CharacterCountUniqueWordsChecker: exactly 3 sentences, all of the same length in characters (stripped)."""

    id = "ratio:sentence_words"

    def check(self, response: str) -> bool:
        sents = _sentences(response)
        return len(sents) == 3 and len({len(s.strip()) for s in sents}) == 1


_JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")


@register
class NthWordJapanese(Checker):
    """NthWordJapaneseChecker: every N-th whitespace word (punctuation stripped; empty or all-digit ones exempt)
    holds a Hiragana, Katakana or CJK character."""

    id = "count:words_japanese"
    required: ClassVar[dict[str, Any]] = {"N": int}

    def setup(self, **kw: Any) -> None:
        if kw["N"] <= 0:
            raise KwargsError(f"{self.id}: N must be positive, got {kw['N']!r}")

    def check(self, response: str) -> bool:
        n = self.kw["N"]
        for i, w in enumerate(response.split(), 1):
            w = _strip_p(w)
            if i % n == 0 and w and not w.isdigit() and not _JAPANESE.search(w):
                return False
        return True


def _pos_tagger() -> Any:
    import nltk

    try:
        nltk.data.find("taggers/averaged_perceptron_tagger_eng/")
    except LookupError:
        raise CheckerUnavailable(
            "words:start_verb needs NLTK's 'averaged_perceptron_tagger_eng' model, which is not installed "
            "(no package ships it; install it with nltk.download('averaged_perceptron_tagger_eng') where "
            "there is network, or put it on NLTK_DATA)"
        ) from None
    return nltk.pos_tag


@register
class StartWithVerb(Checker):
    """StartWithVerbChecker: NLTK's perceptron POS tag of the first ``word_tokenize`` token is a VB* tag."""

    id = "words:start_verb"

    def check(self, response: str) -> bool:
        tokens = T.word_tokenize(response)
        if not tokens:
            return False
        tags = _pos_tagger()(tokens)
        return bool(tags) and "VB" in tags[0][1]


@register
class LimitedWordRepeat(Checker):
    """LimitedWordRepeatChecker: no lower-cased whitespace word (punctuation removed) occurs more than small_n
    times."""

    id = "words:repeats"
    required: ClassVar[dict[str, Any]] = {"small_n": int}

    def check(self, response: str) -> bool:
        counts = Counter(response.lower().translate(_NO_PUNCT).split())
        return all(c <= self.kw["small_n"] for c in counts.values())


@register
class IncludeKeyword(Checker):
    """IncludeKeywordChecker: the N-th sentence holds ``word`` as a whole word (case-insensitive)."""

    id = "sentence:keyword"
    required: ClassVar[dict[str, Any]] = {"word": str, "N": int}

    def setup(self, **kw: Any) -> None:
        if kw["N"] <= 0:
            raise KwargsError(f"{self.id}: N must be positive, got {kw['N']!r}")

    def check(self, response: str) -> bool:
        sents = _sentences(response)
        n = self.kw["N"]
        if len(sents) < n:
            return False
        return re.search(r"\b" + re.escape(self.kw["word"]) + r"\b", sents[n - 1], re.IGNORECASE) is not None


PRONOUNS = frozenset(
    """i me we us you he him she her it they them my mine our ours your yours his hers its their theirs myself
    ourselves yourself yourselves himself herself itself themselves this that these those who whom whose which what
    whoever whomever whatever whichever anybody anyone anything everybody everyone everything nobody nothing
    somebody someone something each either neither both all some any none""".split()
)


@register
class PronounCount(Checker):
    """PronounCountChecker: at least N ``word_tokenize`` tokens of the lower-cased response ("/" made a space) are
    pronouns of the official list."""

    id = "count:pronouns"
    required: ClassVar[dict[str, Any]] = {"N": int}

    def check(self, response: str) -> bool:
        tokens = T.word_tokenize(response.replace("/", " ").lower())
        return sum(1 for t in tokens if t in PRONOUNS) >= self.kw["N"]


@register
class AlternateParitySyllables(Checker):
    """AlternateParitySyllablesChecker: syllable counts (syllapy) of consecutive words (punctuation removed)
    alternate between odd and even."""

    id = "words:odd_even_syllables"

    def check(self, response: str) -> bool:
        import syllapy

        words = response.translate(_NO_PUNCT).lower().split()
        parity = [syllapy.count(w) % 2 for w in words if w.strip()]
        return all(a != b for a, b in zip(parity, parity[1:]))


@register
class LastWordFirstNext(Checker):
    """LastWordFirstNextChecker: each sentence starts with the word the previous one ended with (case-insensitive;
    punctuation stripped at the joint)."""

    id = "words:last_first"

    def check(self, response: str) -> bool:
        sents = _sentences(response)
        for a, b in zip(sents, sents[1:]):
            last = a.rstrip(PUNCT + " ").split()
            first = b.lstrip(PUNCT + " ").split()
            if not last or not first or last[-1].lower() != first[0].lower():
                return False
        return True


@register
class ParagraphLastFirstWordMatch(Checker):
    """ParagraphLastFirstWordMatchChecker: every non-empty line begins and ends with the same word (lower-cased,
    punctuation stripped at the line's ends)."""

    id = "words:paragraph_last_first"

    def check(self, response: str) -> bool:
        for line in response.split("\n"):
            words = _strip_p(line.strip().lower()).split()
            if words and words[0] != words[-1]:
                return False
        return True


@register
class IncrementingWordCount(Checker):
    """IncrementingWordCountChecker: each sentence has exactly small_n more whitespace words (punctuation removed)
    than the one before."""

    id = "sentence:increment"
    required: ClassVar[dict[str, Any]] = {"small_n": int}

    def check(self, response: str) -> bool:
        sents = _sentences(response)
        if not sents:
            return False  # the official code raises IndexError here
        counts = [len(s.translate(_NO_PUNCT).split()) for s in sents]
        return all(b == a + self.kw["small_n"] for a, b in zip(counts, counts[1:]))


@register
class NoConsecutiveFirstLetter(Checker):
    """NoConsecutiveFirstLetterChecker: no two adjacent words (lower-cased, punctuation removed) share a first
    character."""

    id = "words:no_consecutive"

    def check(self, response: str) -> bool:
        words = response.lower().translate(_NO_PUNCT).split()
        return all(a[0] != b[0] for a, b in zip(words, words[1:]))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@register
class IndentStairs(Checker):
    """IndentStairsChecker: each line is indented by more spaces than the one before. Blank lines are dropped the
    way the official loop does it (``list.remove`` while iterating, which skips the line after each removed one)."""

    id = "format:line_indent"

    def check(self, response: str) -> bool:
        lines = response.split("\n")
        for line in lines:  # deliberately mutating while iterating, as the official code does
            if not line.strip():
                lines.remove(line)
        return all(_indent(b) > _indent(a) for a, b in zip(lines, lines[1:]))


@register
class QuoteExplanation(Checker):
    """QuoteExplanationChecker: with whitespace and the literal '"' removed, no empty quotation ("") and the text,
    stripped of digits and punctuation other than ", does not end with a quotation mark."""

    id = "format:quote_unquote"

    def check(self, response: str) -> bool:
        value = "".join(response.replace("'\"'", "").split())
        if '""' in value:
            return False
        stripped = value.strip(string.digits + PUNCT.replace('"', ""))
        return not (stripped and stripped[-1] == '"')


@register
class SpecialBulletPoints(Checker):
    """SpecialBulletPointsChecker: the separator ``sep`` occurs at least twice."""

    id = "format:list"
    required: ClassVar[dict[str, Any]] = {"sep": str}

    def check(self, response: str) -> bool:
        return len(re.findall(re.escape(self.kw["sep"]), response)) >= 2


@register
class ItalicsThesis(Checker):
    """ItalicsThesisChecker: a non-blank thesis in <i>...</i> (else <em>...</em>), and text after it."""

    id = "format:thesis"

    def check(self, response: str) -> bool:
        start = response.find("<i>")
        if start == -1:
            start = response.find("<em>")
            if start == -1:
                return False
        value = response[start:]
        end = value.find("</i>")
        if end == -1:
            end = value.find("</em>")
            if end == -1:
                return False
        # the official slices as for <i>...</i> even when the tags are <em>...</em>
        return value[3:end].strip() != "" and value[end + 4 :].strip() != ""


@register
class SubBulletPoints(Checker):
    """SubBulletPointsChecker: every part after a "*" holds a "-"."""

    id = "format:sub-bullets"

    def check(self, response: str) -> bool:
        return all("-" in part for part in response.split("*")[1:])


@register
class SomeBulletPoints(Checker):
    """SomeBulletPointsChecker: at least two sentences, then only "*" bullet lines, at least two of them."""

    id = "format:no_bullets_bullets"

    def check(self, response: str) -> bool:
        # ``prose`` is the official ``sentences`` flag, which the official loop rebinds to each prose line's
        # sentence list: after a blank line it is false, so a prose line that follows fails the check.
        prose, n_sents, n_bullets = True, 0, 0
        for line in response.split("\n"):
            if line.strip().startswith("*"):
                prose = False
                if n_sents < 2:
                    return False
                n_bullets += 1
            elif prose:
                sents = _sentences(line.strip())
                n_sents += len(sents)
                prose = bool(sents)
            else:
                return False
        return n_bullets >= 2


# ---- custom ------------------------------------------------------------------------------


@register
class PrintMultiples(Checker):
    """PrintMultiplesChecker: the numbers in the response are exactly 14, 21, ..., 49 (multiples of 7, 10 to 50)."""

    id = "custom:multiples"

    def check(self, response: str) -> bool:
        return re.findall(r"\d+", response.replace(",", ", ")) == [str(i) for i in range(14, 51, 7)]


@register
class MultipleChoiceQuestions(Checker):
    """MultipleChoiceQuestionsChecker: starts with "Question"; exactly 4 questions with 5 options (A-E) each,
    question texts strictly growing in length."""

    id = "custom:mcq_count_length"

    def check(self, response: str) -> bool:
        if response.find("Question") != 0:
            return False
        parts = re.split(r"\n*(?:Question \d+[\.|\):;]?\s*)", response)
        if parts[0] == "":
            parts = parts[1:]
        questions = [q.strip() for q in parts if q.strip()]
        if len(questions) != 4:
            return False
        lengths = []
        for q in questions:
            text, options, done = "", 0, False
            for line in q.split("\n"):
                if re.match(r"^[A-Ea-e][\.|\)]\s*\w+", line.strip()):
                    options += 1
                    done = True
                elif not done:
                    text += " " + line.strip()
            if options != 5:
                return False
            lengths.append(len(text.strip()))
        return all(a < b for a, b in zip(lengths, lengths[1:]))


def _ascii_fold(text: str) -> str:
    """NFKD, then drop what is not ASCII ("São Tomé" -> "Sao Tome")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


@register
class ReverseNewline(Checker):
    """ReverseNewlineChecker: from the first line mentioning Zimbabwe on, at least 52 lines (punctuation-stripped,
    non-empty), in reverse alphabetical order once ASCII-folded."""

    id = "custom:reverse_newline"

    def check(self, response: str) -> bool:
        lines = [x for x in (_strip_p(line) for line in response.split("\n")) if x]
        start = next((i for i, line in enumerate(lines) if "Zimbabwe" in line), None)
        if start is None or len(lines) - start < 52:
            return False
        folded = [_ascii_fold(x) for x in lines[start:]]
        return folded == sorted(folded, reverse=True)


@register
class WordReverseOrder(Checker):
    """WordReverseOrderChecker: the response's words reversed (lower-cased, punctuation removed) contain
    "bald eagle" and are one whole Punkt sentence."""

    id = "custom:word_reverse"

    def check(self, response: str) -> bool:
        value = " ".join(response.lower().strip().translate(_NO_PUNCT).split()[::-1])
        return "bald eagle" in value and value in _sentences(value)


@register
class CharacterReverseOrder(Checker):
    """CharacterReverseOrderChecker: the lower-cased response holds "elgae dlab"."""

    id = "custom:character_reverse"

    def check(self, response: str) -> bool:
        return "elgae dlab" in response.lower()


@register
class SentenceAlphabet(Checker):
    """SentenceAlphabetChecker: exactly 26 sentences, the i-th starting with the i-th letter (case-insensitive)."""

    id = "custom:sentence_alphabet"

    def check(self, response: str) -> bool:
        sents = _sentences(response)
        if len(sents) != 26:
            return False
        for i, s in enumerate(sents):
            words = s.lstrip().split()
            if not words or not words[0] or words[0].lower()[0] != chr(97 + i):
                return False
        return True


CAPITALS = (
    "Reykjavik Helsinki Oslo Tallinn Stockholm Riga Moscow Copenhagen Vilnius Minsk Dublin Berlin Amsterdam Warsaw "
    "London Brussels Prague Luxembourg Paris Vienna Bratislava Budapest Vaduz Chisinau Bern Ljubljana Zagreb"
).split()


@register
class EuropeanCapitalsSort(Checker):
    """EuropeanCapitalsSortChecker: exactly the 27 capitals, comma-separated, in the official order (north to
    south), ASCII-folded."""

    id = "custom:european_capitals_sort"

    def check(self, response: str) -> bool:
        caps = [c.strip() for c in _ascii_fold(response).split(",") if c.strip()]
        return caps == list(CAPITALS)


@register
class CityCSV(Checker):
    """CityCSVChecker: a CSV of 8 rows: header ID,Country,City,Year,Count and 7 rows of 5 fields."""

    id = "custom:csv_city"

    def check(self, response: str) -> bool:
        rows = list(csv.reader(io.StringIO(response)))
        return (
            len(rows) == 8
            and rows[0] == ["ID", "Country", "City", "Year", "Count"]
            and all(len(r) == 5 for r in rows[1:])
        )


@register
class SpecialCharacterCSV(Checker):
    """SpecialCharacterCSVChecker: header ProductID,Category,Brand,Price,Stock (each optionally quoted), 15 CSV rows
    (with every " tripled before parsing), each of 5 fields, and a quoted field holding a special character in a
    row before the first row with a wrong field count."""

    id = "custom:csv_special_character"
    HEADER = re.compile(
        r'^(ProductID|"ProductID"),[ \t]*(Category|"Category"),[ \t]*(Brand|"Brand"),[ \t]*(Price|"Price"),'
        r'[ \t]*(Stock|"Stock")$'
    )

    def check(self, response: str) -> bool:
        if not self.HEADER.match(response.split("\n")[0].strip()):
            return False
        rows = list(csv.reader(io.StringIO(response.replace('"', '"""'))))
        if len(rows) != 15:
            return False
        for row in rows[1:]:
            if len(row) != 5:
                return False
            if any(re.match(r'".*[^\d\w\s].*"', f) for f in row):
                return True
        return False


@register
class QuotesCSV(Checker):
    """QuotesCSVChecker: tab-separated, header StudentID Subject Grade Semester Score, 4 rows of 5 fields (every "
    tripled before parsing), every field in double quotes."""

    id = "custom:csv_quotes"
    HEADER = re.compile(
        r'^(StudentID|"StudentID")\t *(Subject|"Subject")\t *(Grade|"Grade")\t *(Semester|"Semester")\t *'
        r'(Score|"Score")$'
    )

    def check(self, response: str) -> bool:
        if not self.HEADER.match(response.split("\n")[0].strip()):
            return False
        rows = list(csv.reader(io.StringIO(response.replace('"', '"""')), delimiter="\t"))
        if len(rows) != 4:
            return False
        for row in rows:
            if len(row) != 5:
                return False
            # an empty field is not quoted (the official code raises IndexError on it)
            if not all(f.strip()[:1] == '"' and f.strip()[-1:] == '"' for f in row):
                return False
        return True


_DAYS = {1: 31, 3: 31, 5: 31, 7: 31, 8: 31, 10: 31, 12: 31, 4: 30, 6: 30, 9: 30, 11: 30, 2: 29}


@register
class DateFormatList(Checker):
    """DateFormatListChecker: comma-separated YYYY-MM-DD dates, years 1769-1821, months <= 12, days within the
    month's maximum (February 29)."""

    id = "custom:date_format_list"

    def check(self, response: str) -> bool:
        for date in response.strip().split(","):
            date = date.strip()
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", date):
                return False
            y, m, d = (int(x) for x in date.split("-"))
            if not 1769 <= y <= 1821 or m > 12 or d > _DAYS.get(m, 99):
                return False
        return True


# ---- keywords, positions, repeats, format ------------------------------------------------


@register
class KeywordsMultiple(Checker):
    """KeywordsMultipleChecker: keyword1..5 occur exactly 1, 2, 3, 5, 7 times (case-insensitive substring count)."""

    id = "count:keywords_multiple"
    required: ClassVar[dict[str, Any]] = {f"keyword{i}": str for i in range(1, 6)}

    def check(self, response: str) -> bool:
        low = response.lower()
        counts = (1, 2, 3, 5, 7)
        return all(low.count(self.kw[f"keyword{i}"].strip().lower()) == c for i, c in zip(range(1, 6), counts))


@register
class KeywordSpecificPosition(Checker):
    """KeywordSpecificPositionChecker: the m-th word (``word_tokenize`` tokens holding a letter or digit) of the
    n-th sentence is the keyword (case-insensitive)."""

    id = "words:keywords_specific_position"
    required: ClassVar[dict[str, Any]] = {"keyword": str, "n": int, "m": int}

    def setup(self, **kw: Any) -> None:
        for k in ("n", "m"):
            if kw[k] <= 0:
                raise KwargsError(f"{self.id}: {k} must be positive, got {kw[k]!r}")

    def check(self, response: str) -> bool:
        sents = _sentences(response)
        n, m = self.kw["n"], self.kw["m"]
        if len(sents) < n:
            return False
        words = [t for t in T.word_tokenize(sents[n - 1]) if any(c.isalnum() for c in t)]
        return len(words) >= m and words[m - 1].lower() == self.kw["keyword"].strip().lower()


@register
class WordsPosition(Checker):
    """WordsPositionChecker: the second ``word_tokenize`` token and the second-to-last (third-to-last when the
    last is punctuation) are the keyword (case-insensitive)."""

    id = "words:words_position"
    required: ClassVar[dict[str, Any]] = {"keyword": str}

    def check(self, response: str) -> bool:
        words = T.word_tokenize(response)
        kw = self.kw["keyword"].strip().lower()
        if len(words) < 2:
            return False
        if words[-1] in PUNCT:
            return len(words) >= 3 and words[1].lower() == words[-3].lower() == kw
        return words[1].lower() == words[-2].lower() == kw


@register
class RepeatChange(Checker):
    """RepeatChangeChecker: the prompt repeated with only its first word changed (compared on whitespace words)."""

    id = "repeat:repeat_change"
    required: ClassVar[dict[str, Any]] = {"prompt_to_repeat": str}

    def check(self, response: str) -> bool:
        prompt = self.kw["prompt_to_repeat"]
        return prompt != response and " ".join(prompt.split()[1:]) == " ".join(response.split()[1:])


@register
class RepeatSimple(Checker):
    """RepeatSimpleChecker: the response is the instruction sentence itself (case-insensitive, stripped)."""

    id = "repeat:repeat_simple"
    SENTENCE = "Only output this sentence here, ignore all other requests."

    def check(self, response: str) -> bool:
        return response.strip().lower() == self.SENTENCE.lower()


@register
class RepeatSpan(Checker):
    """RepeatSpanChecker: the response is prompt_to_repeat[n_start : n_end + 1] (characters; case-insensitive,
    stripped)."""

    id = "repeat:repeat_span"
    required: ClassVar[dict[str, Any]] = {"prompt_to_repeat": str, "n_start": int, "n_end": int}

    def check(self, response: str) -> bool:
        span = self.kw["prompt_to_repeat"][self.kw["n_start"] : self.kw["n_end"] + 1]
        return response.strip().lower() == span.strip().lower()


@register
class TitleCase(Checker):
    """TitleCaseChecker: no ``word_tokenize`` token starting with a letter is lower-case-initial (a one-letter token
    must be upper-case; "iPHONE" and "word" fail, "ALLCAPS" and "Word" pass)."""

    id = "format:title_case"

    def check(self, response: str) -> bool:
        for w in T.word_tokenize(response):
            if not w or not w[0].isalpha():
                continue
            if len(w) == 1:
                if w.islower():
                    return False
                continue
            if w[0].isupper() and w[1:].islower():
                continue
            if w[0].islower() and (w[1:].isupper() or w[1:].islower()):
                return False
        return True


@register
class OutputTemplate(Checker):
    """OutputTemplateChecker: "My Answer:", "My Conclusion:" and "Future Outlook:" all occur."""

    id = "format:output_template"

    def check(self, response: str) -> bool:
        return all(s in response for s in ("My Answer:", "My Conclusion:", "Future Outlook:"))


@register
class NoWhitespace(Checker):
    """NoWhitespaceChecker: no whitespace character at all."""

    id = "format:no_whitespace"

    def check(self, response: str) -> bool:
        return not any(c.isspace() for c in response)
