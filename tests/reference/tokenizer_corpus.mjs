// A deterministic corpus for tokenizer parity tests: many scripts, code, emoji (ZWJ sequences,
// flags, skin tones), numbers, whitespace runs, contractions, special-token text, and invalid
// UTF-8 byte strings, and 40 long documents joined from those. makeCorpus(specialTokens, n)
// returns n + 40 entries, each {text} or {bytes: Uint8Array}.

// mulberry32: a tiny seeded PRNG, so every run sees the same corpus.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pools = {
  latin: ["Hello", "world", "The quick brown fox jumps over the lazy dog.", "naïve café", "Straße",
    "Äpfel", "über", "façade", "coöperate", "Cửa Việt", "Tiếng Việt có dấu", "garçon", "jalapeño",
    "ÉCOLE", "smörgåsbord", "Łódź", "Ærøskøbing", "İstanbul", "ﬁnancial ﬂow", "ǅemal"],
  english: ["don't", "I'LL", "we've", "they're", "she'd", "it's", "You'RE", "'s", "o'clock",
    "rock'n'roll", "Mr. O'Neil's", "isn't", "y'all", "HELLO", "camelCaseWord", "snake_case_word",
    "UPPER lower MiXeD", "e-mail", "state-of-the-art", "U.S.A."],
  cyrillic: ["Привет", "мир", "нещо на Български", "Съешь же ещё этих мягких французских булок",
    "Україна", "ЁЛКА", "щ", "Москва-река"],
  greek: ["Γειά σου", "κόσμε", "Ελληνικά", "ΑΒΓΔΕΖΗΘ", "ἀρχή", "φιλοσοφία"],
  cjk: ["你好", "世界", "我想在apple工作1314151天～", "日本語のテキスト", "カタカナ", "ひらがな",
    "中文字符测试", "東京タワー", "한국어", "안녕하세요", "漢字かな交じり文", "「引用」、句読点。"],
  arabic: ["مرحبا", "العالم", "اللغة العربية", "١٢٣٤٥", "كتاب"],
  hindi: ["नमस्ते", "दुनिया", "हिन्दी भाषा", "क्षत्रिय", "१२३"],
  thai: ["สวัสดี", "ภาษาไทย", "กรุงเทพมหานคร", "ครับ"],
  other: ["שלום", "Հայերեն", "ქართული", "ܐܪܡܝܐ", "ꦗꦮ", "ትግርኛ", "កាន់តែពិសេសអាចខលចេញ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "𐍈𐌰𐌹", "ℌ𝔢𝔩𝔩𝔬", "Ⅻ", "①②③", "½ ¾ ⅓", "™©®", "µ", "∑∫∂√∞≠≤≥"],
  code: ["int main() { return 0; }", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
    "def f(x):\n    return x ** 2\n", "if (a && b || !c) { x->y = z[3]; }",
    "{\"key\": [1, 2.5, null, true], \"s\": \"v\"}", "<div class=\"x\">text</div>",
    "SELECT * FROM t WHERE id = 42;", "console.log(`template ${x}`);", "#include <vector>",
    "x += 1  # comment", "fn main() -> Result<(), Box<dyn Error>> {}", "a/b\\c|d", "$HOME/.config",
    "std::vector<std::string> v;", "    indented\n        more\n", "// TODO: fix\n", "1e-9f",
    "0xDEADBEEF", "~/path/to/file.txt", "http://example.com/a?b=c&d=e#f", "@decorator", "i++;--j;",
    "<b> </b>", "<td>x</td> </tr>", "a > </p>", "x> </", "1> </2", "<br> </br>"],
  emoji: ["🦙", "🚀", "😶‍🌫️", "👨‍👩‍👧‍👦", "👍🏽", "🏳️‍🌈", "🇫🇷🇯🇵", "❤️", "✅", "😁", "🤖💬",
    "🧑🏿‍💻", "👩‍❤️‍💋‍👨", "#️⃣", "☺︎", "🫠"],
  numbers: ["3", "33", "333", "3333", "33333", "333333", "3333333", "1234567890", "3.14159",
    "-42", "1,000,000", "2026-11-25", "12:34:56", "0.0001", "1e10", "٣", "१२", "99%", "$19.99",
    "10^9+7", "4 ½ months"],
  whitespace: [" ", "  ", "   ", "\t", "\n", "\n\n", "\n\n\n", "\t\n", "\r\n", " \n ", "\t\t",
    "    ", "\u00a0", "\u3000", "\u2009", " \t \t", "\n \n", "        "],
  nfd: ["Cafe\u0301", "e\u0301\u0301", "\u1100\u1161\u11a8", "\u2126", "A\u030a", "q\u0307\u0323",
    "man\u0303ana", "\u0958", "s\u0323\u0307", "\u212b ngstr\u00f6m"],
  punctuation: ["!!!!!!", "...", "?!", "—", "–", "«»", "“quoted”", "‘single’", "(", ")", "[]",
    "{}", "<>", "@#$%^&*", "¿Qué?", "¡Hola!", ";:", "…", "·", "§"],
};

const separators = ["", " ", "  ", "\n", "\t", ", ", ". ", " - ", "\n\n", "   ", " \n", "\r\n"];

function pick(r, list) {
  return list[Math.floor(r() * list.length)];
}

function randomWhitespace(r) {
  const chars = [" ", " ", " ", "\t", "\n", "\r\n"];
  let s = "";
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; ++i) s += pick(r, chars);
  return s;
}

function randomNumber(r) {
  const len = 1 + Math.floor(r() * 14);
  let s = "";
  for (let i = 0; i < len; ++i) s += String(Math.floor(r() * 10));
  return s;
}

function randomInvalidBytes(r) {
  const valid = new TextEncoder().encode(pick(r, [...pools.latin, ...pools.cjk, ...pools.emoji]));
  const bad = [[0xff], [0xc0, 0xaf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0x80], [0xed, 0xa0, 0x80],
    [0xf5, 0x80, 0x80, 0x80], [0xc3], [0xfe, 0xfe], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]];
  const parts = [];
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; ++i) {
    parts.push(...new TextEncoder().encode(pick(r, ["a", " ", "x y", "é", "中"])));
    parts.push(...pick(r, bad));
  }
  const cut = Math.floor(r() * (valid.length + 1));  // may split a character: also invalid
  return new Uint8Array([...valid.slice(0, cut), ...parts, ...valid.slice(cut)]);
}

export function makeCorpus(specialTokens, n = 2200, seed = 20261125) {
  const r = rng(seed);
  const corpus = [];
  // 1. every pool entry alone, and with a leading space
  for (const list of Object.values(pools)) {
    for (const s of list) {
      corpus.push({ text: s });
      corpus.push({ text: " " + s });
    }
  }
  // 2. special-token text in context (and malformed near-misses)
  for (const sp of specialTokens.slice(0, 24)) {
    corpus.push({ text: sp });
    corpus.push({ text: `Hello${sp}world` });
    corpus.push({ text: ` ${sp} \n${sp}${sp}text` });
    corpus.push({ text: sp.slice(0, -1) + " " + sp.slice(1) });
  }
  // 3. invalid UTF-8
  for (let i = 0; i < 120; ++i) corpus.push({ bytes: randomInvalidBytes(r) });
  // 4. random mixtures until n
  const names = Object.keys(pools);
  while (corpus.length < n) {
    const k = 1 + Math.floor(r() * 7);
    let s = "";
    for (let i = 0; i < k; ++i) {
      const x = r();
      if (x < 0.08) s += randomWhitespace(r);
      else if (x < 0.16) s += randomNumber(r);
      else if (x < 0.2 && specialTokens.length > 0) s += pick(r, specialTokens);
      else s += pick(r, pools[pick(r, names)]);
      s += pick(r, separators);
    }
    corpus.push({ text: s });
  }
  // 5. long documents (tokenizers that cut text into segments must cut where no merge crosses)
  const n_short = corpus.length;
  for (let i = 0; i < 40; ++i) {
    const k = 20 + Math.floor(r() * 60);
    const parts = [];
    for (let j = 0; j < k; ++j) {
      const c = corpus[Math.floor(r() * n_short)];
      if (!c.bytes) parts.push(c.text);
    }
    corpus.push({ text: parts.join(pick(r, separators)) });
  }
  return corpus;
}
