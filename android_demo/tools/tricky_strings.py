"""Hard inputs for a BERT tokenizer port: each line of hand_picked() names what it is there to catch."""

from __future__ import annotations

import numpy as np

# Characters whose class differs between Unicode versions (the JDK's, Android's ICU, the Rust crates').
VERSION_SENSITIVE = [
    "\u07fd",
    "\u08d3",
    "\u0c77",
    "\u0c84",
    "\u09fd",
    "\u0a76",
    "\u2e43",
    "\u2e4f",
    "\u166d",
    "\U000111c9",
    "\U00011938",
    "\u1c89",
    "\u2c2f",
    "\ua7c0",
    "\ua7cb",
    "\U0001fae8",
    "\U00031350",
    "\U0002b820",
    "\u0d81",
]
POOL = (
    (
        "aAzZéÉèçñÑüÜßẞæøåœﬁﬂĳİıΣσςΑΩω"  # Latin/Greek letters, ligatures, case pairs
        "\u0301\u0300\u0308\u0327\u0323\u034f\u0489\u20dd"  # combining marks (incl. enclosing)
        "!?.,;:'\"()[]{}<>@#$%^&*-_=+/\\|~`"  # ASCII punctuation and symbols
        "«»‘’“”„‹›–—…·¿¡§¶†‡•‰′″‼⁉※"  # Unicode punctuation
        "😀😂🥰🤣👍🏽❤️\u200d🔥🇫🇷🇯🇵#️⃣👩\u200d👩\u200d👧"  # emoji, skin tones, ZWJ, flags, keycaps
        "我你好難过日本語한국어ひらがなカタカナ"  # CJK ideographs, Hangul, kana
        "العربيةעברית\u05b8\u05bc\u064b\u200f\u200e\u202e\u202c"  # RTL scripts, niqqud/harakat, bidi controls
        "ไทย\u0e31\u0e34हिन्दी\u093f\u094dதமிழ்"  # Thai, Devanagari, Tamil: spacing and non-spacing vowel signs
        "\u0000\u0001\u0007\u001b\u007f\u0085\u00ad\u200b\u200c\u2060\ufeff\ufffd\ufe0f\U000e0061\ue000"  # controls
        " \t\n\r\u000b\u000c\u00a0\u1680\u2003\u2028\u2029\u202f\u3000"  # whitespace kinds
        "0123456789½²³Ⅻⅻ①Ⓐ€£¥°±×÷∞√∑𝐀𝑨𝔸ＡＢＣｆｕｌｌ１２３"  # digits, numbers, math, fullwidth
    )
    + "".join(VERSION_SENSITIVE)
)


def hand_picked() -> list[str]:
    long_words = " ".join(f"word{i}" for i in range(200))
    return [
        # plain
        "I can't believe I won the lottery!!!",
        "ok",
        "OK",
        "Ok.",
        "a",
        "I",
        "hello world",
        "Hello, World!",
        "This is the worst customer service I have ever experienced.",
        "lol",
        "LOL 😂",
        "wtf?!",
        "meh...",
        "I'm sooooo happyyyyy",
        "nooooooooooooooooooooooooooo",
        "ugh",
        "Yay!!!!!!!!",
        "what???",
        "hmm…",
        # accents
        "Je suis très fatigué mais content",
        "Crème brûlée à la café",
        "naïve coöperate façade résumé",
        "ÀÁÂÃÄÅàáâãäå",
        "Ångström",
        "Ελληνικά με τόνους: άέήίόύώ ΐΰ",
        "Tiếng Việt có dấu: Đường phố",
        "Zürich Straße ÄÖÜ äöü",
        "ĳsselmeer ĲSSEL",
        "Łódź Kraków Gdańsk",
        "Dvořák Škoda",
        "São Paulo ação",
        "e\u0301",
        "E\u0301\u0302\u0303",
        "\u00e9\u0301",
        "a\u0308\u0304",
        "o\u0338",
        "\u212b",
        "\u2126",
        "Ǆ ǅ ǆ Ǉ ǈ ǉ",
        "ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ",
        "İstanbul ıİiI",
        "ΣΑΣ σας ΟΔΥΣΣΕΥΣ",
        "ẞ ß SS",
        "ŉ ǰ ΐ",
        # emoji
        "😀",
        "😀😀😀",
        "I love it ❤️",
        "❤",
        "❤\ufe0f",
        "👍🏽",
        "👩\u200d👩\u200d👧\u200d👦 family",
        "🏳️\u200d🌈",
        "🇫🇷🇩🇪🇯🇵",
        "#️⃣ 1️⃣",
        "🥰🥹🫠🫶",
        "\U0001fae8 shaking face",
        "☺ ☹ ♥ ★ ☆",
        ":-) :( ;) <3 :D xD ^_^ ¯\\_(ツ)_/¯",
        "lol 😂😂😂 that's hilarious #blessed @friend https://example.com",
        "🙂🙃",
        "🤬🤬 so angry",
        # CJK and other East Asian
        "我今天很难过",
        "我今天很難過",
        "日本語のテキストです。",
        "ひらがなとカタカナ",
        "한국어 텍스트입니다",
        "안녕하세요!",
        "中文，标点。符号！",
        "混合 mixed 文字 text",
        "\U00020000\U0002a6d6\U0002b820\U0002ceb0\U00031350",
        "丽 \U0002f800",
        "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３！",
        "ﾊﾝｶｸ ｶﾀｶﾅ",
        "〈括弧〉《书名》「引用」『二重』【強調】",
        # RTL
        "أنا سعيد جدا",
        "مرحبا بالعالم!",
        "אני שמח מאוד",
        "שָׁלוֹם",
        "\u200fRTL mark\u200f",
        "\u202eevil override\u202c",
        "العربية\u0640\u0640\u0640",
        "ّمُحَمَّد",
        "mixed עברית and English",
        "فارسی: خیلی خوشحالم",
        # other scripts
        "Привет, мир! Ёё",
        "Україна ЇїҐґ",
        "ภาษาไทย สวัสดีครับ",
        "हिन्दी में पाठ",
        "தமிழ் உரை",
        "ქართული",
        "Հայերեն",
        "አማርኛ",
        "ᠮᠣᠩᠭᠣᠯ",
        "བོད་ཡིག",
        "ᏣᎳᎩ",
        "ᚠᚢᚦ",
        "𐌰𐌱𐌲",
        "𝐁𝐨𝐥𝐝 𝑰𝒕𝒂𝒍𝒊𝒄 𝔉𝔯𝔞𝔨𝔱𝔲𝔯",
        # punctuation
        "!!!",
        "?!?!",
        "...",
        "…",
        "—",
        "a—b–c-d",
        "“quoted” ‘single’ «guillemets» „low“",
        "(parens) [brackets] {braces}",
        "a.b.c",
        "e.g., i.e.,",
        "$100.00 €50 £3 ¥1000",
        "50% off!!!",
        "user@example.com",
        "C++ & C#",
        "#hashtag @mention",
        "http://a.b/c?d=e&f=g#h",
        "<b>html</b> &amp; &lt;tag&gt;",
        "**bold** _it_ `code`",
        "‼ ⁉ ※ ‰ ′ ″",
        "¿Qué? ¡Sí!",
        "§1 ¶2 †3 ‡4 •5",
        "a/b\\c|d~e",
        "~~~~~~~~",
        "'''",
        '"""',
        # whitespace and controls
        "  leading and trailing  ",
        "tab\tseparated\twords",
        "new\nline\r\nwindows",
        "non\u00a0breaking\u00a0space",
        "ideographic\u3000space",
        "em\u2003space",
        "line\u2028separator",
        "para\u2029separator",
        "narrow\u202fnbsp",
        "zero\u200bwidth\u200bspace",
        "soft\u00adhyphen",
        "word\u2060joiner",
        "\ufeffBOM at start",
        "bell\u0007char",
        "esc\u001b[31mred\u001b[0m",
        "del\u007fchar",
        "nel\u0085char",
        "vt\u000bff\u000c",
        "nul\u0000x",
        "x\ufffdy",
        "private\ue000use",
        "tag\U000e0061\U000e0062chars",
        "variation\ufe0fselector",
        "\u0001\u0002x\u0003",
        # empty after normalisation (the SDK refuses blank input, but the tokenizer must still agree)
        "",
        " ",
        "   ",
        "\t\n",
        "\u200b",
        "\u200b\u200c\u200d",
        "\u0000",
        "\u0001\u0002\u0003",
        "\ufeff",
        "\u0301",
        "\u0301\u0302\u0303\u0304",
        "\u00ad",
        "\ufffd",
        "\u200e\u200f",
        "\U000e0001",
        "\u3000",
        "\u2028\u2029",
        # special tokens written in the text
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "[PAD]",
        "[UNK]",
        "[mask]",
        "hi [MASK] there",
        "a[SEP]b",
        "[CLS][CLS]",
        "[[MASK]]",
        "[MASK",
        "MASK]",
        "[ MASK ]",
        "x[UNK]y",
        # length
        long_words,
        "😂" * 200,
        "a" * 100,
        "a" * 101,
        "é" * 100,
        "é" * 101,
        "supercalifragilisticexpialidocious " * 20,
        "Antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
        "word " * 125 + "end",
        "word " * 126 + "end",
        "word " * 127,
        ("This sentence is repeated many times. " * 60).strip(),
        "a" * 5000,
        "我" * 200,
        "x" * 99 + "\u0301",
        "https://" + "very-long-domain-name" * 8 + ".com/" + "path/" * 30,
        # numbers
        "1234567890",
        "3.14159",
        "1,000,000",
        "½ ¼ ¾",
        "x² + y³",
        "Ⅻ ⅻ Ⅰ",
        "① ② ③",
        "٣٤٥",
        "१२३",
        "0x1F600",
        # zalgo
        "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA"
        "\u0336\u0317\u0330\u0333\u0320L\u0334G\u0327O",
        # version-sensitive characters, alone and in words
        *VERSION_SENSITIVE,
        "abc" + "".join(VERSION_SENSITIVE) + "xyz",
        "Ⱟ ⰿ Ꟁ ꟁ",
        # sentiment-like texts
        "My grandmother passed away last night and I keep thinking about the summers we spent together.",
        "Thanks so much, you really saved my day!",
        "Why would anyone do that? I don't get it.",
        "Ugh, the train is late AGAIN. 🙄",
        "I'm scared of what the results will show...",
        "That's disgusting 🤢",
        "Wow, I didn't see that coming!",
        "I'm so proud of you 🥹",
    ]


def random_mixes(rng: np.random.Generator, n: int) -> list[str]:
    """Seeded strings of 1-40 characters drawn from POOL, with some ASCII words between."""
    pool = list(POOL)
    words = ["happy", "sad", "angry", "the", "un", "believable", "lol", "I", "feel", "##", "[SEP]"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(int(rng.integers(1, 12))):
            if rng.random() < 0.3:
                parts.append(words[int(rng.integers(len(words)))])
            else:
                parts.append(
                    "".join(pool[int(i)] for i in rng.integers(len(pool), size=int(rng.integers(1, 5))))
                )
        out.append("".join(parts) if rng.random() < 0.5 else " ".join(parts))
    return out


# -- emoji (the bundle's emoji table, applied before tokenisation) ---------------------------------------------------
ZWJ, VS16, VS15, KEYCAP = "\u200d", "\ufe0f", "\ufe0e", "\u20e3"


def _is_regional(c: str) -> bool:
    return 0x1F1E6 <= ord(c) <= 0x1F1FF


def emoji_strings(names: dict[str, str], rng: np.random.Generator, max_chars: int) -> list[str]:
    """Texts for the emoji golden data: single keys of every kind (seeded samples of the table), sequences the
    longest-match rule must get right, emoji among letters, punctuation, CJK and special tokens, and texts around
    the SDK's cut of over-long input (`max_chars` code points), where the cut splits a ZWJ sequence."""
    keys = sorted(names)

    def sample(pool: list[str], k: int) -> list[str]:
        return [pool[int(i)] for i in sorted(rng.choice(len(pool), size=min(k, len(pool)), replace=False))]

    kinds = {
        "skin tone": [k for k in keys if any(0x1F3FB <= ord(c) <= 0x1F3FF for c in k)],
        "zwj": [k for k in keys if ZWJ in k],
        "flag": [k for k in keys if len(k) == 2 and all(_is_regional(c) for c in k)],
        "tag flag": [k for k in keys if any(0xE0020 <= ord(c) <= 0xE007F for c in k)],
        "keycap": [k for k in keys if KEYCAP in k],
        "vs16": [k for k in keys if VS16 in k],
        "bmp single": [k for k in keys if len(k) == 1 and ord(k) < 0x10000],
        "astral single": [k for k in keys if len(k) == 1 and ord(k) >= 0x10000],
        "longest": [k for k in keys if len(k) == max(map(len, keys))],
        "non-ascii name": [k for k in keys if not names[k].isascii()],
    }
    singles = sample(keys, 120)
    for kind, pool in kinds.items():
        singles += sample(pool, 24 if kind == "keycap" else 12)
    # a key without its VS16 when only the VS16 form is a key, and the other way round (the selector is then kept)
    singles += [k.replace(VS16, "") for k in sample(kinds["vs16"], 12) if k.replace(VS16, "") not in names][:6]
    singles += [k + VS16 for k in sample(kinds["bmp single"], 12) if k + VS16 not in names][:6]

    family = "👨\u200d👩\u200d👧\u200d👦"
    hand = [
        # plain ASCII: no key can match (keycaps start with ASCII but need U+20E3)
        "I am happy :)", "<3 <3", ":-( :'(", "#1 fan, call 911 *now*", "ASCII only, no emoji at all.", "0",
        # ASCII keycap starts in a text that is not all-ASCII
        "#1 fan ❤", "call 911 ☎️", "1️⃣2️⃣3️⃣ go", "#️⃣ vs #⃣", "*⃣", "0⃣1", "10\u20e3", "#\ufe0f", "##\ufe0f\u20e3#", "é#\u20e3",
        # emoji next to letters, digits, punctuation, CJK, special tokens, whitespace, controls
        "I love it😍so much", "wow!!😂😂😂?", "(👍)", "\"😡\"", "😀.😀,😀", "我爱你❤️", "日本🇯🇵語", "한국👍어",
        "😀[MASK]😀", "[SEP]🇫🇷", "😀\n😀\t😀", "😀\u00a0😀\u3000😀", "😀\u0000😀\u0007", "a😀b😀c", "x2😀", "😀2x",
        "café☕ naïve 🙃 résumé", "e\u0301😀", "😀\u0301", "😀\u0301\u0301🏽", "ﬁ😀ﬂ", "ＡＢＣ😀",
        # repeated emoji (the last ones truncate at max_seq_length pieces)
        "😭😭😭😭😭", "😂" * 20, "🔥" * 60, "👍🏽" * 80,
        # variation selectors, ZWJ, skin tones and regional indicators on their own or misplaced
        VS16, VS15, VS16 * 3, "a\ufe0fb", "❤\ufe0e", "❤\ufe0f\ufe0f", ZWJ, "a\u200db", "🏽", "👍 🏽", "👍🏽🏽", "🏽👍",
        "🇫", "🇫🇷🇯", "🇦🇨🇦", "🇺🇸🇫🇷🇩🇪", "🇫 🇷", "🇷🇫", "🇿🇿",
        # ZWJ sequences whole, partial, extended, and with skin tones
        family, family[:4], family[:5], ZWJ + "👩", family + ZWJ + "👦", family + family, "👩🏽\u200d💻", "🧑🏿\u200d🤝\u200d🧑🏻",
        "❤️\u200d🔥", "❤\u200d🔥", "🏳️\u200d🌈", "🏳\u200d🌈", "🏴\u200d☠️", "👁️\u200d🗨️",
        # subdivision flags (tag sequences), whole and broken
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074",
        "\U000e0067\U000e0062\U000e007f",
        # lone surrogates beside emoji (the SDK shows them as U+FFFD after the table is applied)
        "\ud83d😀", "😀\ude00", "\ud83d\u200d😀", "😀\ud83d",
        # names that are not ASCII, or hold punctuation
        "🇦🇽", "🇨🇮", "🇧🇱 🇸🇹", "⛑️", "🆙", "🅰️🅱️🆎🅾️", "🇹🇷",
    ]
    below = max_chars - 11
    cut_cases = [
        # the cut (in code points) splits the family after man + ZWJ + woman
        " " * (max_chars - 3) + family + " joy",
        # whitespace beyond the cut: nothing is left to tokenise, and the text is truncated
        " " * (max_chars + 1) + "😀 joy",
        # 11 UTF-16 units but 7 code points: under the cut in code points, over it in UTF-16 units
        " " * below + family + "!",
    ]
    out = singles + hand + cut_cases
    seen: set[str] = set()
    return [t for t in out if not (t in seen or seen.add(t))]
