"""OpenAI's CLIP byte-level BPE over assets/clip-bpe/bpe_simple_vocab_16e6.txt.gz (49408 tokens, SOT 49406,
EOT 49407), written for the tiny CLIP's training without third-party packages.

Steps as OpenAI's tokenizer defines them: HTML entities unescaped twice, white space runs collapsed to one
space and the ends stripped, lower case; the text split into words by the pattern
<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+ (Python's `regex`
module is not installed, so the pattern is a scanner over Unicode categories here); each word's UTF-8 bytes
mapped to printable characters, the last one marked with "</w>", and merged pair by pair in merge-rank order.
ftfy's repair of mis-decoded text is left out, as in the C# tokenizer. train.py checks the ids against
`reclip tokenize` for every text it trains or evaluates on.
"""
import gzip
import html
import unicodedata

SOT, EOT = 49406, 49407
_LITERALS = ("<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
_MERGES = 48894  # 49152 − 256 − 2: the merges OpenAI keeps after the first header line of the file


def _byte_alphabet():
    """Every byte 0–255 as one printable character: printable Latin-1 bytes stand for themselves, the others
    are shifted to 256 and above in byte order. Insertion order (printable bytes first, then the shifted
    ones) is the order of the first 256 vocabulary entries."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    alphabet = {b: chr(b) for b in keep}
    shifted = [b for b in range(256) if b not in alphabet]
    alphabet.update({b: chr(256 + k) for k, b in enumerate(shifted)})
    return alphabet


def _category(ch):
    c = unicodedata.category(ch)[0]
    if c == "L":
        return "L"
    if c == "N":
        return "N"
    return "S" if ch.isspace() else "O"


def _words(text):
    i, n = 0, len(text)
    while i < n:
        rest = text[i:i + 15]
        literal = next((lit for lit in _LITERALS if rest.startswith(lit)), None)
        if literal is not None:
            yield literal
            i += len(literal)
            continue
        kind = _category(text[i])
        if kind == "S":
            i += 1
            continue
        j = i + 1
        if kind != "N":
            while j < n and _category(text[j]) == kind:
                j += 1
        yield text[i:j]
        i = j


def clean(text):
    text = html.unescape(html.unescape(text))
    return " ".join(text.split()).lower()


class Tokenizer:
    def __init__(self, vocabulary_path):
        with gzip.open(vocabulary_path, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")[1:_MERGES + 1]
        merges = [tuple(line.split()) for line in lines]
        self.alphabet = _byte_alphabet()
        symbols = list(self.alphabet.values())
        vocabulary = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
        vocabulary += ["<|startoftext|>", "<|endoftext|>"]
        self.ids = {token: i for i, token in enumerate(vocabulary)}
        self.merges = merges
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache = {"<|startoftext|>": ["<|startoftext|>"], "<|endoftext|>": ["<|endoftext|>"]}

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = [self.alphabet[b] for b in word.encode("utf-8")]
        parts[-1] += "</w>"
        while len(parts) > 1:
            ranked = [self.ranks[pair] for pair in zip(parts, parts[1:]) if pair in self.ranks]
            if not ranked:
                break
            best = min(ranked)
            first, second = self.merges[best]
            merged, k = [], 0
            while k < len(parts):
                if k + 1 < len(parts) and parts[k] == first and parts[k + 1] == second:
                    merged.append(first + second)
                    k += 2
                else:
                    merged.append(parts[k])
                    k += 1
            parts = merged
        self.cache[word] = parts
        return parts

    def encode(self, text):
        """Token ids of the text, without SOT/EOT."""
        return [self.ids[p] for w in _words(clean(text)) for p in self._bpe(w)]

    def context(self, text, length):
        """SOT, ids, EOT, zero padded to `length`; a text that does not fit is an error, never cut."""
        ids = [SOT] + self.encode(text) + [EOT]
        if len(ids) > length:
            raise ValueError(f"'{text}' needs {len(ids)} tokens, more than the context of {length}")
        return ids + [0] * (length - len(ids))
