// Single MIME parts, fetched by their BODYSTRUCTURE section and decoded by the engine: what
// attachments, replies and large messages are read with, instead of the whole message.
import { mailboxes } from './mailboxes.js';

function charsetOf(part) {
  const p = (part.parameters || []).find(([k]) => String(k).toLowerCase() === 'charset');
  return p ? p[1] : undefined;
}

/** One part fetched and decoded by the engine: {bytes, text}. */
export async function decodedPart(client, uid, part) {
  const { decodePart } = await import('../pkg/client_wasm.js');
  const fetched = await client.fetchPart(uid, { kind: 'content', part: part.section });
  if (!fetched || !fetched.data) throw Object.assign(new Error('the part is gone'), { code: 'not_found' });
  return decodePart(part.content_type, part.encoding || undefined, charsetOf(part), fetched.data);
}

/** One part's decoded octets, e.g. an attachment to download or forward. */
export async function partBytes(client, uid, part) {
  return (await decodedPart(client, uid, part)).bytes;
}

export function findPart(part, section) {
  if (!part || part.section === section) return part;
  for (const child of part.children || []) {
    const hit = findPart(child, section);
    if (hit) return hit;
  }
  return null;
}

async function sectionText(client, uid, structure, section) {
  const part = section != null && findPart(structure.body, section);
  return part ? (await decodedPart(client, uid, part)).text : null;
}

/**
 * What the reader shows (fetchMessage's shape) built from fetchStructure's answer and the
 * text and HTML parts alone: a large message is read without its attachments (row V0007).
 */
export async function messageFromParts(client, uid, structure) {
  const env = structure.envelope || {};
  const [from] = mailboxes(env.from);
  return {
    uid,
    flags: structure.flags || [],
    subject: env.subject ?? null,
    from: from || null,
    to: mailboxes(env.to),
    cc: mailboxes(env.cc),
    date: env.date ?? null,
    message_id: env.message_id ?? null,
    text: await sectionText(client, uid, structure, structure.text_section),
    html: await sectionText(client, uid, structure, structure.html_section),
    attachments: (structure.attachments || []).map((p) => ({
      name: p.filename ?? null, content_type: p.content_type, size: p.size ?? 0, content_id: p.id ?? null,
    })),
  };
}
