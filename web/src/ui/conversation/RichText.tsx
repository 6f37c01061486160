import type { ComponentChildren } from 'preact';
import type { Message } from '../../api/types';
import { segments } from '../../markdown';

/** A message's text with its entities: bold, links (http/https only), mentions… Put it in a
 * block with `dir="auto"`: that block isolates the message and takes the direction of its
 * first strong letter (a `<bdi>` here would hide the text from that choice). */
export function RichText({ text, entities }: { text: string; entities?: Message['entities'] }) {
  return (
    <>
      {segments(text, entities ?? []).map((s, i) => {
        let node: ComponentChildren = s.text;
        for (const e of [...s.entities].reverse()) {
          if (e.type === 'bold') node = <strong>{node}</strong>;
          else if (e.type === 'italic') node = <em>{node}</em>;
          else if (e.type === 'underline') node = <u>{node}</u>;
          else if (e.type === 'strikethrough') node = <s>{node}</s>;
          else if (e.type === 'code') node = <code>{node}</code>;
          else if (e.type === 'pre') node = <pre>{node}</pre>;
          else if (e.type === 'spoiler') node = <span class="spoiler">{node}</span>;
          else if (e.type === 'mention' || e.type === 'text_mention') node = <span class="mention" data-testid="mention">{node}</span>;
          else if ((e.type === 'text_link' && e.url) || e.type === 'url') {
            const href = e.url ?? s.text;
            if (/^https?:\/\//i.test(href)) node = <a href={href} target="_blank" rel="noopener noreferrer">{node}</a>;
          }
        }
        return <span key={i}>{node}</span>;
      })}
    </>
  );
}
