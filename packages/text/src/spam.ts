/** What the spam check looks at: a post's own words (normalised) and the markup extracted from them. */
export interface SpamInput {
  ownText: string;
  /** `ownText` without URLs, mentions and emoticons. */
  bareText: string;
  urls: readonly string[];
  mentions: readonly string[];
  topics: readonly string[];
  emoticons: readonly string[];
}

/** The verdict: `reason` names every rule that fired, strongest first, e.g. `ad:首付…万 + ad:三室 + domain:zhifang.com`. */
export interface SpamVerdict {
  spam: boolean;
  reason?: string;
  /** Sum of the weights of the rules that fired; spam at {@link SPAM_THRESHOLD} or more. */
  score: number;
}

interface PatternRule {
  name: string;
  pattern: RegExp;
  weight: number;
}

/**
 * A post is spam when the weights of its signals add up to 2. A strong signal (an invitation to make contact
 * off-platform, a get-rich offer) is enough alone; a weak one (优惠, 楼盘, a phone number, one domain) is not, so
 * a citizen writing "买不起房" or quoting a hotline number is not flagged.
 */
export const SPAM_THRESHOLD = 2;

// Patterns run on lowercased text; full-width forms are already half-width.
const PATTERN_RULES: readonly PatternRule[] = [
  // A Chinese name of the app may run straight into the handle (加微信dg938); a bare letter (加v, 加q) may not run into a word.
  { name: 'contact:加微信', pattern: /加\s*(?:我\s*)?(?:(?:微信|薇信|威信|徽信|v信|扣扣)|(?:vx|wx|v|q|qq)(?![a-z]))/, weight: 2 },
  { name: 'contact:微信号', pattern: /(?:微信|薇信|威信|v信|vx|wx)\s*(?:号)?\s*[:：]?\s*[a-z][a-z0-9_-]{5,19}/, weight: 2 },
  { name: 'contact:qq号', pattern: /(?:qq|扣扣)\s*(?:号|群)?\s*[:：]?\s*\d{5,11}/, weight: 2 },
  { name: 'contact:私信咨询', pattern: /私信\s*(?:我|咨询|了解|领取|获取|详谈)|(?:咨询|详情|联系)\s*(?:请)?\s*私信/, weight: 1.5 },
  { name: 'income:日赚', pattern: /日赚|日入|月入\s*[过上]?\s*\d*\s*[万千]|躺赚|轻松赚|在家(?:就能)?赚/, weight: 2 },
  { name: 'income:刷单', pattern: /刷单|刷信誉|兼职(?:打字|刷|日结|招聘)|招聘兼职|日结/, weight: 2 },
  { name: 'ad:代理招商', pattern: /招代理|代理加盟|诚招|招商加盟|招商|加盟/, weight: 1.5 },
  { name: 'ad:扫码', pattern: /扫码|扫一扫|二维码/, weight: 1 },
  { name: 'ad:点击链接', pattern: /点击链接|戳链接|点链接|链接领取|领取福利|免费领/, weight: 1.5 },
  { name: 'ad:代购', pattern: /代购|正品低价|低价正品|同城(?:当天)?送达|货到付款/, weight: 1 },
  { name: 'ad:优惠返现', pattern: /优惠券?|返现|返利|特价|限时抢购|秒杀|包邮|折扣/, weight: 1 },
  { name: 'ad:首付…万', pattern: /首付.{0,12}?万/, weight: 1 },
  { name: 'ad:买房户型', pattern: /买.{0,8}?(?:三室|两室|二室|一室|户型|公寓|商铺)|[一二两三四]室[一二两]?厅?|准现房?|现房|精装/, weight: 1 },
  { name: 'ad:楼盘', pattern: /楼盘|售楼|地铁口|学区房源|开盘/, weight: 1 },
  { name: 'contact:phone', pattern: /(?<!\d)(?:1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}-\d{7,8}|400-?\d{3}-?\d{4})(?!\d)/, weight: 1 },
];

/** Every pattern in one alternation: most posts match none, and one scan then replaces fourteen. */
const ANY_PATTERN = new RegExp(PATTERN_RULES.map((r) => `(?:${r.pattern.source})`).join('|'));

const REPEATED_CHAR = /(.)\1{9,}/u;
const HAN_OR_LETTER = /[\p{Script=Han}A-Za-z]/gu;

/**
 * Flags advertising and spam with a reason. Pure and cheap: a dozen precompiled patterns plus counts of markup.
 */
export function detectSpam(input: SpamInput): SpamVerdict {
  const text = hasUpperAscii(input.ownText) ? input.ownText.toLowerCase() : input.ownText;
  const fired: { name: string; weight: number }[] = [];
  if (ANY_PATTERN.test(text)) {
    for (const rule of PATTERN_RULES) {
      if (rule.pattern.test(text)) fired.push({ name: rule.name, weight: rule.weight });
    }
  }
  for (const url of input.urls) {
    // One domain next to an advert doubles it; a single link in an ordinary post is weak.
    fired.push({ name: `link:${linkHost(url)}`, weight: input.urls.length >= 3 ? 1 : 0.75 });
  }
  const markupCount = input.urls.length + input.mentions.length;
  // Counting characters costs a regex pass: only when there is enough markup for it to matter.
  if (markupCount >= 3 || input.topics.length >= 5) {
    const words = countMatches(input.bareText, HAN_OR_LETTER);
    if (markupCount >= 3 && words < 15) fired.push({ name: `markup_heavy:${markupCount} links/mentions, ${words} chars`, weight: 2 });
    if (input.topics.length >= 5 && words < 20) fired.push({ name: `topic_flood:${input.topics.length}`, weight: 1.5 });
  }
  if (input.mentions.length >= 8) fired.push({ name: `mention_flood:${input.mentions.length}`, weight: 2 });
  if (hasRepeatedChar(input.bareText)) fired.push({ name: 'repeated_chars', weight: 1.25 });
  if (text.length >= 40 && distinctRatio(text) < 0.15) fired.push({ name: 'low_variety', weight: 2 });

  let score = 0;
  for (const f of fired) score += f.weight;
  if (score < SPAM_THRESHOLD) return { spam: false, score };
  fired.sort((a, b) => b.weight - a.weight);
  return { spam: true, reason: fired.map((f) => f.name).join(' + '), score };
}

/** {@link REPEATED_CHAR} without the regex engine on the usual text (no surrogate pairs): one pass over units. */
function hasRepeatedChar(text: string): boolean {
  let run = 0;
  let previous = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return REPEATED_CHAR.test(text);
    // `.` does not match line terminators.
    if (c === previous && c !== 10 && c !== 13 && c !== 0x2028 && c !== 0x2029) {
      if (++run >= 10) return true;
    } else run = 1;
    previous = c;
  }
  return false;
}

function linkHost(url: string): string {
  const noScheme = url.replace(/^[a-z]+:\/\//i, '');
  const slash = noScheme.indexOf('/');
  return (slash < 0 ? noScheme : noScheme.slice(0, slash)).toLowerCase();
}

function countMatches(text: string, pattern: RegExp): number {
  pattern.lastIndex = 0;
  let n = 0;
  while (pattern.exec(text) !== null) n++;
  return n;
}

// Reused scratch bitmap over UTF-16 units: a Set per post was a third of the spam check's time.
const seenUnits = new Uint8Array(0x10000);

function distinctRatio(text: string): number {
  let distinct = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) continue;
    n++;
    if (seenUnits[c] === 0) {
      seenUnits[c] = 1;
      distinct++;
    }
  }
  for (let i = 0; i < text.length; i++) seenUnits[text.charCodeAt(i)] = 0;
  return n === 0 ? 1 : distinct / n;
}

function hasUpperAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}
