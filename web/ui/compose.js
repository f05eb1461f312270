// Compose: new message, reply, reply all and forward, saved as drafts in the
// Drafts folder (APPEND with \Draft; saving again replaces the old draft).
// There is no sending yet. Server data only reaches the form as field values.
import { el, clear } from './dom.js';
import { formatSize } from './links.js';
import { formatFullDate } from './messages.js';
import { describeError } from './errors.js';
import { decodedPart, findPart, partBytes } from './parts.js';
import { mailboxes } from './mailboxes.js';

/** Attachments above this total are refused: the whole draft is built in memory. */
const MAX_ATTACHED = 25 * 1024 * 1024;

/** Hex from crypto.getRandomValues: Message-ID left parts and MIME boundaries. */
export function randomToken(bytes = 16) {
  const a = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** "Re: x" for "x"; a subject that already starts with the prefix (or `also`) keeps it. */
export function prefixed(prefix, subject, also = prefix) {
  const s = typeof subject === 'string' ? subject.trim() : '';
  return new RegExp(`^(${prefix}|${also}):`, 'i').test(s) ? s : `${prefix}: ${s}`;
}

const ADDRESS = /^[\x21-\x7e]+@[\x21-\x7e]+$/;

/** "A <a@x>, b@y" → {list: [{name, address}], bad: [texts that are no address]}. */
export function parseAddresses(text) {
  const list = [];
  const bad = [];
  for (const raw of String(text).match(/(?:"(?:[^"\\]|\\.)*"|<[^>]*>|[^,"<])+/g) || []) {
    const item = raw.trim();
    if (!item) continue;
    const m = item.match(/^(.*?)\s*<([^<>]*)>$/);
    const address = (m ? m[2] : item).trim();
    const name = m ? m[1].trim().replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1') : '';
    if (ADDRESS.test(address) && !/[<>",\\]/.test(address)) list.push(name ? { name, address } : { address });
    else bad.push(item);
  }
  return { list, bad };
}

/** The form's text for an address: quoted name when it holds special characters. */
export function formatAddress({ name, address }) {
  if (!name || name === address) return address;
  return /[",<>@;:]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>` : `${name} <${address}>`;
}

function unique(list, skip) {
  const seen = new Set(skip.map((a) => a.toLowerCase()));
  return list.filter((a) => !seen.has(a.address.toLowerCase()) && seen.add(a.address.toLowerCase()));
}

/** Message-IDs in a References header's text, in order. */
export function messageIds(text) {
  return String(text || '').match(/<[^<>\s]+>/g) || [];
}

/** RFC 5322 §3.6.4: the parent's References (else its In-Reply-To) plus its Message-ID. */
export function replyReferences(original) {
  const env = original.envelope || {};
  const parents = original.references.length ? original.references : messageIds(env.in_reply_to);
  return env.message_id ? [...parents, ...messageIds(env.message_id)] : parents;
}

function who(env) {
  const from = mailboxes(env.from)[0];
  return from ? formatAddress(from) : 'someone';
}

/** The reply's body: "On <date>, <who> wrote:" and the text with "> " before each line. */
export function quoteText(text, env) {
  const date = Number(env.date);
  const when = Number.isFinite(date) && env.date !== null ? `On ${formatFullDate(date)}, ` : '';
  const quoted = String(text || '').replace(/\r\n/g, '\n').split('\n').map((l) => (l ? `> ${l}` : '>'));
  return `\n\n${when}${who(env)} wrote:\n${quoted.join('\n')}\n`;
}

function forwardText(text, env) {
  const date = Number(env.date);
  const head = [
    '---------- Forwarded message ----------',
    `From: ${who(env)}`,
    Number.isFinite(date) && env.date !== null ? `Date: ${formatFullDate(date)}` : '',
    `Subject: ${env.subject || ''}`,
    `To: ${mailboxes(env.to).map(formatAddress).join(', ')}`,
  ].filter(Boolean);
  return `\n\n${head.join('\n')}\n\n${String(text || '').replace(/\r\n/g, '\n')}`;
}

/**
 * The form's first contents for `kind` ('reply' | 'all' | 'forward' | 'draft') from
 * `original` = {envelope, text, references, attachments}; `self` is the user's address.
 */
export function initialFields(kind, original, self = '') {
  const env = original.envelope || {};
  const list = (l) => mailboxes(l).map(formatAddress).join(', ');
  if (kind === 'draft') {
    return {
      to: list(env.to), cc: list(env.cc), bcc: list(env.bcc), subject: env.subject || '', text: original.text || '',
      inReplyTo: env.in_reply_to || null, references: original.references, attachments: original.attachments,
      messageId: messageIds(env.message_id).map((id) => id.slice(1, -1))[0] || null,
    };
  }
  if (kind === 'forward') {
    return {
      to: '', cc: '', bcc: '', subject: prefixed('Fwd', env.subject, 'Fw'), text: forwardText(original.text, env),
      inReplyTo: null, references: [], attachments: original.attachments,
    };
  }
  const author = mailboxes(env.reply_to).length ? mailboxes(env.reply_to) : mailboxes(env.from);
  const to = kind === 'all' ? unique([...author, ...mailboxes(env.to)], [self]) : author;
  const cc = kind === 'all' ? unique(mailboxes(env.cc), [self, ...to.map((a) => a.address)]) : [];
  return {
    to: to.map(formatAddress).join(', '), cc: cc.map(formatAddress).join(', '), bcc: '',
    subject: prefixed('Re', env.subject), text: quoteText(original.text, env),
    inReplyTo: env.message_id || null, references: replyReferences(original), attachments: [],
  };
}

/** What a reply, forward or resumed draft needs from message `uid` in the selected folder. */
export async function loadOriginal(client, uid, { withAttachments }) {
  const structure = await client.fetchStructure(uid);
  if (!structure) throw Object.assign(new Error('This message no longer exists.'), { code: 'not_found' });
  // Only the text part, not the whole message (which may carry large attachments).
  const textPart = structure.text_section != null && findPart(structure.body, structure.text_section);
  const text = textPart ? (await decodedPart(client, uid, textPart)).text : '';
  const header = await client.fetchPart(uid, { kind: 'header_fields', fields: ['References'] });
  const references = messageIds(header && header.data ? new TextDecoder().decode(header.data) : '');
  const attachments = [];
  for (const part of withAttachments ? structure.attachments : []) {
    attachments.push({
      filename: part.filename || 'attachment', content_type: part.content_type, data: await partBytes(client, uid, part),
    });
  }
  return { envelope: structure.envelope || {}, text: text || '', references, attachments };
}

function safeType(type) {
  return /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type.toLowerCase() : 'application/octet-stream';
}

/**
 * The compose dialog. `ctx`: {enqueue(task), client(), draftsFolder(), self(),
 * inMailbox(name, fn(client))}: engine calls run one at a time through the app's queue.
 */
export class Composer {
  constructor(ctx) {
    this.ctx = ctx;
    this.files = [];
    this.fields = {};
    const input = (id, label) => el('div', { className: 'field' },
      el('label', { htmlFor: id }, label),
      el('input', { id, type: 'text', autocomplete: 'off', spellcheck: id === 'compose-subject' }));
    this.status = el('p', { id: 'compose-status', className: 'status', role: 'status', 'aria-live': 'polite' });
    this.fileList = el('ul', { id: 'compose-files-list', className: 'attachment-list', 'aria-label': 'Attached files' });
    this.picker = el('input', { id: 'compose-files', type: 'file', multiple: true });
    this.title = el('h2', { id: 'compose-title' });
    this.form = el('form', { className: 'compose-form', noValidate: true },
      this.title,
      input('compose-to', 'To'), input('compose-cc', 'Cc'), input('compose-bcc', 'Bcc'), input('compose-subject', 'Subject'),
      el('div', { className: 'field' }, el('label', { htmlFor: 'compose-body' }, 'Message'),
        el('textarea', { id: 'compose-body', rows: 12 })),
      el('div', { className: 'field' }, el('label', { htmlFor: 'compose-files' }, 'Attach files'), this.picker),
      this.fileList, this.status,
      el('div', { className: 'help-actions' },
        el('button', { type: 'button', id: 'compose-close' }, 'Close'),
        el('button', { type: 'submit', id: 'compose-save', className: 'primary' }, 'Save draft')));
    this.dialog = el('dialog', { id: 'compose', className: 'help compose', 'aria-labelledby': 'compose-title' }, this.form);
    document.body.append(this.dialog);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
    this.form.querySelector('#compose-close').addEventListener('click', () => {
      if (this.mayClose()) this.dialog.close();
    });
    this.dialog.addEventListener('cancel', (event) => {
      if (!this.mayClose()) event.preventDefault();
    });
    this.form.addEventListener('input', () => {
      this.dirty = true;
    });
    this.picker.addEventListener('change', () => this.addFiles());
  }

  /** Unsaved changes are only dropped when the user says so. */
  mayClose() {
    return !this.dirty || window.confirm('Discard the unsaved changes to this message?');
  }

  get isOpen() {
    return this.dialog.open;
  }

  field(name) {
    return this.form.querySelector(`#compose-${name}`);
  }

  /** Open the form: `fields` from initialFields (or empty); `draftUid` is the draft it replaces. */
  open(title, fields = {}, draftUid = null) {
    this.title.textContent = title;
    for (const name of ['to', 'cc', 'bcc', 'subject']) this.field(name).value = fields[name] || '';
    this.field('body').value = fields.text || '';
    this.fields = { inReplyTo: fields.inReplyTo || null, references: fields.references || [] };
    this.files = (fields.attachments || []).slice();
    this.draftUid = draftUid;
    this.dirty = false;
    this.messageId = fields.messageId || null;
    this.setStatus('');
    for (const name of ['to', 'cc', 'bcc']) this.field(name).removeAttribute('aria-invalid');
    this.showFiles();
    if (!this.dialog.open) this.dialog.showModal();
    const body = this.field('body');
    (this.field('to').value ? body : this.field('to')).focus();
    body.setSelectionRange(0, 0);
  }

  setStatus(text, isError = false) {
    this.status.textContent = text;
    this.status.classList.toggle('error', isError);
  }

  showFiles() {
    clear(this.fileList);
    this.files.forEach((f, i) => {
      const remove = el('button', { type: 'button', 'aria-label': `Remove ${f.filename}` }, 'Remove');
      remove.addEventListener('click', () => {
        this.files.splice(i, 1);
        this.dirty = true;
        this.showFiles();
        this.picker.focus();
      });
      this.fileList.append(el('li', { className: 'attachment' },
        el('span', { className: 'attachment-name' }, f.filename),
        el('span', { className: 'attachment-meta' }, `${f.content_type} · ${formatSize(f.data.length)}`), remove));
    });
  }

  async addFiles() {
    const total = () => this.files.reduce((n, f) => n + f.data.length, 0);
    for (const file of this.picker.files) {
      if (total() + file.size > MAX_ATTACHED) {
        this.setStatus(`“${file.name}” is too large: attachments are limited to ${formatSize(MAX_ATTACHED)}.`, true);
        continue;
      }
      this.files.push({ filename: file.name, content_type: safeType(file.type), data: new Uint8Array(await file.arrayBuffer()) });
    }
    this.picker.value = '';
    this.showFiles();
  }

  /** The draft for composeMessage, or a problem to show. */
  draft() {
    const lists = {};
    for (const name of ['to', 'cc', 'bcc']) {
      const { list, bad } = parseAddresses(this.field(name).value);
      if (bad.length) return { problem: `Not an address: ${bad[0]}`, field: this.field(name) };
      lists[name] = list;
    }
    const self = this.ctx.self();
    const from = ADDRESS.test(self) ? { address: self } : undefined;
    // The right part of the Message-ID: the user's domain, else this page's host name when it is a plain one.
    const domain = from ? self.split('@').pop() : [location.hostname].find((h) => /^[A-Za-z0-9.-]+$/.test(h)) || 'localhost';
    this.messageId ||= `${randomToken()}@${domain}`;
    return {
      draft: {
        from, ...lists, subject: this.field('subject').value, text: this.field('body').value.replace(/\r?\n/g, '\r\n'),
        attachments: this.files, in_reply_to: this.fields.inReplyTo || undefined, references: this.fields.references,
        date: Math.floor(Date.now() / 1000), message_id: this.messageId, boundary: randomToken(20),
      },
    };
  }

  /** APPEND to Drafts with \Draft; then the previous version is marked \Deleted and UID EXPUNGEd. */
  async save() {
    const drafts = this.ctx.draftsFolder();
    if (!drafts) return this.setStatus('The server has no Drafts folder.', true);
    const { draft, problem, field } = this.draft();
    if (problem) {
      this.setStatus(problem, true);
      field.setAttribute('aria-invalid', 'true');
      return field.focus();
    }
    const client = this.ctx.client();
    for (const name of ['to', 'cc', 'bcc']) this.field(name).removeAttribute('aria-invalid');
    this.setStatus('Saving…');
    try {
      const { composeMessage } = await import('../pkg/client_wasm.js');
      const bytes = composeMessage(draft);
      const old = this.draftUid;
      await this.ctx.enqueue(async () => {
        const added = await client.append(drafts, ['\\Draft', '\\Seen'], bytes);
        this.draftUid = added && added.uid != null ? Number(added.uid) : null;
        if (old !== null) {
          await this.ctx.inMailbox(drafts, async (c) => {
            await c.store([old], 'add', ['\\Deleted']);
            await c.expunge([old]);
          });
        }
      });
      this.dirty = false;
      this.setStatus(`Draft saved at ${new Date().toLocaleTimeString()}.`);
    } catch (err) {
      this.setStatus(`Could not save the draft: ${describeError(err)}`, true);
    }
  }
}
