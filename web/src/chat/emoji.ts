/** A compact built-in emoji set by category, with English keywords for search. No assets. */
export interface Emoji {
  e: string;
  k: string; // space-separated keywords
}
export interface EmojiCategory {
  id: string;
  icon: string;
  items: Emoji[];
}

function parse(s: string): Emoji[] {
  return s.split('|').map((x) => {
    const [e, k] = x.split(':');
    return { e, k };
  });
}

export const EMOJI: EmojiCategory[] = [
  {
    id: 'smileys',
    icon: '😀',
    items: parse(
      '😀:grin smile happy|😃:smile happy joy|😄:smile laugh happy|😁:grin beam|😆:laugh squint|😅:sweat laugh|😂:joy tears laugh lol|🤣:rofl laugh floor|😊:blush smile|😇:angel halo innocent|🙂:slight smile|🙃:upside down|😉:wink|😍:love heart eyes|🥰:love hearts|😘:kiss blow|😋:yum tasty|😜:wink tongue crazy|🤪:zany crazy|😎:cool sunglasses|🤓:nerd|🥳:party celebrate|😏:smirk|😒:unamused|😞:disappointed sad|😔:pensive sad|😟:worried|😢:cry sad tear|😭:sob cry loud|😤:triumph huff|😠:angry|😡:rage angry mad|🤯:mind blown exploding|😳:flushed blush|😱:scream fear|🤔:thinking hmm|🤫:shush quiet|🙄:eye roll|😴:sleep zzz|🤒:sick thermometer|🤮:vomit sick|😷:mask sick|🤗:hug|🤝:handshake deal|😬:grimace awkward',
    ),
  },
  {
    id: 'gestures',
    icon: '👍',
    items: parse(
      '👍:thumbs up like yes ok|👎:thumbs down dislike no|👌:ok perfect|✌️:victory peace|🤞:fingers crossed luck|👏:clap applause|🙌:raise hands hooray|🙏:pray please thanks|💪:muscle strong|👋:wave hello bye|🤙:call me|👉:point right|👈:point left|👆:point up|👇:point down|✋:hand stop|🤷:shrug|🤦:facepalm|🙋:raise hand|💃:dance|🏃:run',
    ),
  },
  {
    id: 'hearts',
    icon: '❤️',
    items: parse(
      '❤️:heart love red|🧡:orange heart|💛:yellow heart|💚:green heart|💙:blue heart|💜:purple heart|🖤:black heart|🤍:white heart|💔:broken heart|💕:two hearts|💯:hundred perfect|✨:sparkles|🔥:fire hot lit|⭐:star|🌟:glowing star|💥:boom collision|💤:sleep zzz|💬:speech bubble chat|✅:check done yes|❌:cross no wrong|❓:question|❗:exclamation',
    ),
  },
  {
    id: 'nature',
    icon: '🐱',
    items: parse(
      '🐶:dog puppy|🐱:cat kitten|🐭:mouse|🦊:fox|🐻:bear|🐼:panda|🐨:koala|🦁:lion|🐸:frog|🐵:monkey|🐔:chicken|🐧:penguin|🐦:bird|🦋:butterfly|🐢:turtle|🐍:snake|🐙:octopus|🐬:dolphin|🌸:blossom flower|🌹:rose flower|🌻:sunflower|🌲:tree|🌵:cactus|🍀:clover luck|☀️:sun sunny|🌙:moon night|⛅:cloud weather|🌧️:rain|❄️:snow cold|🌈:rainbow',
    ),
  },
  {
    id: 'food',
    icon: '🍕',
    items: parse(
      '🍎:apple|🍌:banana|🍉:watermelon|🍇:grapes|🍓:strawberry|🍒:cherries|🍑:peach|🥑:avocado|🍅:tomato|🥕:carrot|🌽:corn|🍞:bread|🧀:cheese|🍔:burger hamburger|🍟:fries|🍕:pizza|🌮:taco|🍣:sushi|🍜:noodles ramen|🍰:cake|🎂:birthday cake|🍩:donut|🍪:cookie|🍫:chocolate|☕:coffee tea|🍵:tea|🍺:beer|🍷:wine|🥂:cheers toast',
    ),
  },
  {
    id: 'activity',
    icon: '⚽',
    items: parse(
      '⚽:soccer football|🏀:basketball|🏈:football|⚾:baseball|🎾:tennis|🏐:volleyball|🎱:billiards|🏓:ping pong|🎮:game controller|🎲:dice|🎯:target bullseye|🎸:guitar|🎹:piano|🎤:microphone sing|🎧:headphones music|🎬:movie film|🎨:art palette|🏆:trophy win|🥇:gold medal first|🎉:party tada celebrate|🎁:gift present|🎈:balloon',
    ),
  },
  {
    id: 'objects',
    icon: '💡',
    items: parse(
      '📱:phone mobile|💻:laptop computer|⌨️:keyboard|📷:camera photo|📺:tv|⏰:alarm clock|⌛:hourglass time|💡:idea bulb|🔋:battery|📚:books|📝:memo note write|📎:paperclip|📌:pin|🔒:lock|🔑:key|🔔:bell notification|📦:package box|✈️:airplane travel|🚗:car|🚲:bike bicycle|🏠:house home|🌍:earth world globe|💰:money bag|💸:money fly|📈:chart up|🗓️:calendar',
    ),
  },
];

/** Emoji whose keywords start with every word of the query (case-insensitive); the query may also be an emoji. */
export function searchEmoji(query: string, limit = 48): Emoji[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const out: Emoji[] = [];
  const seen = new Set<string>();
  for (const cat of EMOJI) {
    for (const em of cat.items) {
      if (seen.has(em.e)) continue;
      const keys = em.k.split(' ');
      const hit = words.every((w) => em.e === w || keys.some((k) => k.startsWith(w)));
      if (hit) {
        seen.add(em.e);
        out.push(em);
        if (out.length >= limit) return out;
      }
    }
  }
  return out;
}

const RECENT_KEY = 'heliograph.emoji.recent';

export function pushRecent(recent: string[], e: string, max = 16): string[] {
  return [e, ...recent.filter((x) => x !== e)].slice(0, max);
}

export function loadRecent(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): string[] {
  try {
    const v = JSON.parse(storage?.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string').slice(0, 16) : [];
  } catch {
    return [];
  }
}

export function saveRecent(recent: string[], storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(RECENT_KEY, JSON.stringify(recent));
  } catch {
    /* ignore */
  }
}

/** Insert text into a string at a selection, returning the new value and caret. */
export function insertAt(value: string, start: number, end: number, insert: string): { value: string; caret: number } {
  const s = Math.max(0, Math.min(start, value.length));
  const e = Math.max(s, Math.min(end, value.length));
  return { value: value.slice(0, s) + insert + value.slice(e), caret: s + insert.length };
}

/** Whether a mention entity (or @username text) names this user. */
export function mentionsMe(
  text: string,
  entities: { type: string; offset: number; length: number; user_id?: number | null }[] | undefined,
  me: { id: number; username: string | null } | null,
): boolean {
  if (!me) return false;
  for (const e of entities ?? []) {
    if (e.type === 'text_mention' && e.user_id === me.id) return true;
    if (e.type === 'mention' && me.username && text.slice(e.offset + 1, e.offset + e.length).toLowerCase() === me.username.toLowerCase()) return true;
  }
  return false;
}
