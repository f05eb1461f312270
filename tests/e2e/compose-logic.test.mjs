// Unit tests of the compose and attachment helpers (web/ui/compose.js,
// web/ui/attachments.js): no browser or rig needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  randomToken, prefixed, parseAddresses, formatAddress, replyReferences, initialFields,
} from '../../web/ui/compose.js';
import { downloadType, safeFileName } from '../../web/ui/attachments.js';

const mailbox = (name, address) => ({ kind: 'mailbox', name, address });
const original = {
  envelope: {
    date: Date.UTC(2026, 0, 2, 3, 4), subject: 'Re: Plans',
    from: [mailbox('Ann', 'ann@example.org')], reply_to: [],
    to: [mailbox(null, 'me@example.org'), { kind: 'group', name: 'team', members: [mailbox('Bo', 'bo@example.org')] }],
    cc: [mailbox(null, 'ann@example.org'), mailbox('Cy', 'cy@example.org')],
    in_reply_to: '<p1@x>', message_id: '<m2@x>',
  },
  text: 'line one\r\n\r\nline two',
  references: [],
  attachments: [{ filename: 'a.txt', content_type: 'text/plain', data: new Uint8Array([1]) }],
};

test('compose: subject prefixes are added once', () => {
  assert.equal(prefixed('Re', 'Plans'), 'Re: Plans');
  assert.equal(prefixed('Re', 'RE: Plans'), 'RE: Plans');
  assert.equal(prefixed('Fwd', 'Fw: Plans', 'Fw'), 'Fw: Plans');
  assert.equal(prefixed('Fwd', 'Re: Plans', 'Fw'), 'Fwd: Re: Plans');
});

test('compose: addresses parse with names, quotes and commas; junk is reported', () => {
  const { list, bad } = parseAddresses('"Doe, Jane" <jane@x.org>, bo@y.org, Ann <ann@z.org>, not an address, <>');
  assert.deepEqual(list, [{ name: 'Doe, Jane', address: 'jane@x.org' }, { address: 'bo@y.org' }, { name: 'Ann', address: 'ann@z.org' }]);
  assert.deepEqual(bad, ['not an address', '<>']);
  assert.equal(formatAddress({ name: 'Doe, Jane', address: 'jane@x.org' }), '"Doe, Jane" <jane@x.org>');
  assert.deepEqual(parseAddresses(formatAddress({ name: 'Say "hi"', address: 'h@x.org' })).list, [{ name: 'Say "hi"', address: 'h@x.org' }]);
});

test('compose: reply, reply all and forward fields (RFC 5322 §3.6.4 references)', () => {
  assert.deepEqual(replyReferences(original), ['<p1@x>', '<m2@x>']);
  assert.deepEqual(replyReferences({ ...original, references: ['<r0@x>', '<p1@x>'] }), ['<r0@x>', '<p1@x>', '<m2@x>']);
  const reply = initialFields('reply', original, 'me@example.org');
  assert.equal(reply.to, 'Ann <ann@example.org>');
  assert.equal(reply.cc, '');
  assert.equal(reply.subject, 'Re: Plans');
  assert.equal(reply.inReplyTo, '<m2@x>');
  assert.match(reply.text, /Ann <ann@example\.org> wrote:\n> line one\n>\n> line two\n$/);
  assert.deepEqual(reply.attachments, []);
  const all = initialFields('all', original, 'me@example.org');
  assert.equal(all.to, 'Ann <ann@example.org>, Bo <bo@example.org>');
  assert.equal(all.cc, 'Cy <cy@example.org>');
  const forward = initialFields('forward', original, 'me@example.org');
  assert.equal(forward.subject, 'Fwd: Re: Plans');
  assert.equal(forward.inReplyTo, null);
  assert.equal(forward.attachments.length, 1);
  assert.match(forward.text, /Forwarded message[^]*Subject: Re: Plans[^]*line one\n\nline two$/);
  const draft = initialFields('draft', original);
  assert.equal(draft.messageId, 'm2@x');
  assert.equal(draft.subject, 'Re: Plans');
  assert.equal(draft.inReplyTo, '<p1@x>');
});

test('compose: random tokens are hex of the asked length and differ', () => {
  assert.match(randomToken(20), /^[0-9a-f]{40}$/);
  assert.notEqual(randomToken(), randomToken());
});

test('attachments: only inert types keep their type; file names lose paths', () => {
  assert.equal(downloadType('text/plain'), 'text/plain');
  assert.equal(downloadType('IMAGE/PNG'), 'image/png');
  for (const t of ['text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/javascript', '']) {
    assert.equal(downloadType(t), 'application/octet-stream', t);
  }
  assert.equal(safeFileName('../../etc/passwd'), '_.._etc_passwd');
  assert.equal(safeFileName('.hidden'), 'hidden');
  assert.equal(safeFileName(' \u0000 '), '_');
  assert.equal(safeFileName(''), 'attachment');
});
