import type { RepostHop } from '@tingfeng/contracts';

/** Weibo markup found in a post's own words, plus those words with the markup taken out. */
export interface Markup {
  urls: string[];
  mentions: string[];
  /** `#昆明18度#` → `昆明18度`. */
  topics: string[];
  /** `[蜡烛]` → `蜡烛`. */
  emoticons: string[];
  /**
   * The text to segment: URLs, @mentions and emoticons replaced by a space; of a topic only its `#` signs go, so
   * the topic's own words (昆明, 18度) become tokens as well, which is what the story detector wants.
   */
  bareText: string;
}

/** A post's text split at its first `//@` hop. */
export interface RepostSplit {
  ownText: string;
  repostChain: RepostHop[];
}

// Weibo nicknames: CJK, letters, digits, `_` and `-`, 1–30 characters. Not after a latin/digit/dot, so
// `name@qq.com` is an address, not a mention.
const NICK = '[\\p{Script=Han}A-Za-z0-9_\\-]{1,30}';
const URL_PATTERN =
  '(?:https?:\\/\\/[^\\s\\p{Script=Han}<>"\'()（）\\[\\]【】，。！？、]+)' +
  // Bare domains (t.cn/xxxx, Zhifang.com): a label, a dot, a common TLD, not glued to more latin.
  '|(?<![A-Za-z0-9.\\-@/])(?:[A-Za-z0-9](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?\\.)+' +
  '(?:com|cn|net|org|cc|top|xyz|info|vip|shop|site|online|club|me|io|tv|hk|tw)(?![A-Za-z0-9\\-])(?:\\/[A-Za-z0-9\\-._~%!$&*+,;=:@/?#]*)?';
const MENTION_PATTERN = `(?<![A-Za-z0-9._])@(${NICK})`;
const TOPIC_PATTERN = '#([^#\\n]{1,64})#';
const EMOTICON_PATTERN = '\\[([\\p{Script=Han}A-Za-z0-9_]{1,8})\\]';

/**
 * One pass over the text: URLs first (they may hold `@` and `#`), then topics (which may hold a mention-like `@`),
 * mentions, emoticons. The group that matched tells which it is.
 */
const MARKUP = new RegExp(`(${URL_PATTERN})|${TOPIC_PATTERN}|${MENTION_PATTERN}|${EMOTICON_PATTERN}`, 'gu');
const REPOST_HOP = /\/\/\s*@([^:\s/]{1,30})\s*:?/g;
const URL_SCHEME_BEFORE = /(?:https?|ftp):$/i;

/**
 * Splits `my words//@A: A's words//@B: B's words` into own words and the chain, nearest hop first (A, then B).
 * Expects normalised text (full-width `：` already `:`). A post with no `//@` is all own words.
 */
export function splitRepostChain(text: string): RepostSplit {
  const first = text.indexOf('//');
  if (first < 0) return { ownText: text.trim(), repostChain: [] };
  REPOST_HOP.lastIndex = 0;
  const hops: { user: string; start: number; end: number }[] = [];
  let m: RegExpExecArray | null;
  while ((m = REPOST_HOP.exec(text)) !== null) {
    // `http://@x` is a URL, not a hop; `//@A://@B:` (A reposted B without a word) is two hops.
    if (m.index > 0 && text[m.index - 1] === ':' && URL_SCHEME_BEFORE.test(text.slice(Math.max(0, m.index - 6), m.index))) continue;
    hops.push({ user: m[1] ?? '', start: m.index, end: m.index + m[0].length });
  }
  const firstHop = hops[0];
  if (firstHop === undefined) return { ownText: text.trim(), repostChain: [] };
  const repostChain: RepostHop[] = hops.map((hop, i) => ({
    user: hop.user,
    text: text.slice(hop.end, hops[i + 1]?.start ?? text.length).trim(),
  }));
  return { ownText: text.slice(0, firstHop.start).trim(), repostChain };
}

/** Extracts URLs, mentions, topics and emoticons, in order of appearance, duplicates kept once. */
export function extractMarkup(text: string): Markup {
  const urls: string[] = [];
  const mentions: string[] = [];
  const topics: string[] = [];
  const emoticons: string[] = [];
  if (!mayHoldMarkup(text)) return { urls, mentions, topics, emoticons, bareText: text };
  MARKUP.lastIndex = 0;
  let bare = '';
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = MARKUP.exec(text)) !== null) {
    const [whole, url, topic, mention, emoticon] = m;
    let keep = ' ';
    if (url !== undefined) pushOnce(urls, url.replace(/[.,;:!?)]+$/, ''));
    else if (topic !== undefined) {
      const name = topic.trim();
      if (name.length > 0) pushOnce(topics, name);
      keep = ` ${topic} `;
    } else if (mention !== undefined) pushOnce(mentions, mention);
    else if (emoticon !== undefined) pushOnce(emoticons, emoticon);
    bare += text.slice(last, m.index) + keep;
    last = m.index + whole.length;
  }
  bare += text.slice(last);
  return { urls, mentions, topics, emoticons, bareText: bare };
}

/** Cheap pre-check: most short posts hold none of the characters markup needs. */
function mayHoldMarkup(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // @ # [ . (domains and URLs always hold a dot)
    if (c === 64 || c === 35 || c === 91 || c === 46) return true;
  }
  return false;
}

function pushOnce(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}
