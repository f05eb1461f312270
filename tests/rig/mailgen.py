#!/usr/bin/env python3
"""Fill a Maildir with realistic, deterministic test messages, fast.

Usage:
    python3 tests/rig/mailgen.py --maildir PATH --count N [--seed S]
        [--owner USER] [--kind inbox|sent|drafts|archive]
        [--me "Name <addr>"] [--end EPOCH]

Layout written
--------------
PATH/{cur,new,tmp} are created if missing (plus an empty PATH/maildirfolder
when PATH's last component starts with "." — a Maildir++ sub-folder such as
HOME/Maildir/.Sent). Every message goes straight into PATH/cur, bypassing
Dovecot, under the name

    <ts>.M<usec>P<pid>Q<i>.rig,S=<size>,W=<vsize>:2,<flags>

  ts     the message's date (Unix seconds). Dovecot gives new files UIDs in
         file-name order (timestamp first), so UID order = date order.
  S=     the file size in bytes; W= the size with CRLF line endings, which is
         what IMAP's RFC822.SIZE reports. Both are Dovecot's own file-name
         extensions: with them it answers sizes without opening the file.
  flags  Maildir info letters, sorted: D(raft) F(lagged) R(eplied) S(een)
         T(rashed).

Files use LF line endings (as Dovecot itself stores them), mode 0600, are
chowned to --owner if given, and have mtime = the Date header, so IMAP
INTERNALDATE equals the Date header. The intended use is an empty Maildir
before Dovecot first sees it.

Fixed points (kind "inbox", the default; count >= 2)
----------------------------------------------------
  UID 1 (oldest):  From "Rig Postmaster <postmaster@example.test>",
                   Subject exactly "Welcome to the test mailbox",
                   text/plain 7bit, flags \\Seen.
  UID N (newest):  From "Alice Example <alice@example.test>",
                   Subject exactly "Newest test message N" (N = --count),
                   text/plain 7bit, unseen.
With --count 1 the only message is the Welcome message. Other kinds have no
fixed points.

Everything else comes from a PRNG seeded with --seed: for the same --seed,
--count, --kind, --me and --end the message bytes are identical (file names
also hold the writer's pid). Dates are spread over the two years before
--end (default: now), strictly increasing, in assorted time zones; the
newest message is dated exactly --end.

Variety: ASCII and RFC 2047 encoded display names and subjects
(=?UTF-8?B?, =?UTF-8?Q?, =?ISO-8859-1?Q?), Re:/Fwd: threads with
In-Reply-To/References, To/Cc lists, text/plain in 7bit, quoted-printable
and 8bit UTF-8, text/html, multipart/alternative, multipart/mixed with a
base64 PDF or PNG attachment (one with an RFC 2231 non-ASCII file name).
Inbox flags: about 30% unseen, 5% flagged, some answered.

Speed: message text is assembled from pools prepared once at start-up
(no `email` package), and each file costs one open, write, fchown, futimens
and close, so 100,000 messages take a few seconds.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import pwd
import random
import re
import struct
import sys
import textwrap
import time
import zlib

SPAN = 2 * 365 * 86400  # dates cover the two years before --end
WDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Offsets in minutes; repeated entries make them more common.
ZONES = (0, 0, 60, 60, 60, 120, -300, -300, -240, -420, -480, 330, 540,
         600, -180, 570, 345, 0, 60, -300)

WELCOME_FROM = "Rig Postmaster <postmaster@example.test>"
WELCOME_SUBJECT = "Welcome to the test mailbox"
NEWEST_FROM = "Alice Example <alice@example.test>"
NEWEST_SUBJECT = "Newest test message {n}"

# (display name, address, how to write the name in the header, weight)
#   None: as is; "quote": quoted-string; "b": =?UTF-8?B?; "uq": =?UTF-8?Q?;
#   "lq": =?ISO-8859-1?Q?
PEOPLE = (
    ("Bob Builder", "bob@example.test", None, 6),
    ("Carol Jones", "carol.jones@example.org", None, 6),
    ("Dave O'Brien", "dave@example.net", None, 4),
    ("Smith, John", "john.smith@corp.example.com", "quote", 4),
    ("Jürgen Müller", "juergen.mueller@example.de", "b", 4),
    ("François Dupré", "francois@example.fr", "lq", 4),
    ("José Álvarez", "jose.alvarez@example.es", "lq", 3),
    ("Zoë Ødegaard", "zoe@example.no", "b", 3),
    ("山田 太郎", "yamada@example.jp", "b", 3),
    ("Ελένη Παπαδοπούλου", "eleni@example.gr", "b", 2),
    ("Ingrid Bäckström", "ingrid@example.se", "uq", 3),
    ("Дмитрий Иванов", "dmitry@example.ru", "b", 2),
    ("Priya Natarajan", "priya@example.in", None, 4),
    ("Build Bot", "ci@build.example.test", None, 6),
    ("Example Newsletter", "news@lists.example.com", None, 5),
    ("Git Forge", "notifications@forge.example.com", None, 6),
    ("Support Desk", "support@shop.example.com", None, 2),
    ("Wei Chen", "wei.chen@example.cn", None, 3),
)
LIST_SENDERS = {"news@lists.example.com", "notifications@forge.example.com"}

SUBJECTS = (
    "Meeting notes from Tuesday",
    "Quarterly report draft",
    "Lunch on Friday?",
    "Build failed on main",
    "Your order has shipped",
    "Invoice 2024-0117",
    "Re-scheduling the design review",
    "Holiday plans",
    "Question about the API rate limits",
    "Weekly digest",
    "Security update available",
    "New comment on issue #482",
    "Pull request merged: fix IMAP literal parsing",
    "Photos from the trip",
    "Contract renewal",
    "Server maintenance window this weekend",
    "Travel expenses",
    "Welcome aboard!",
    "A rather long subject line that goes on and on to make sure that "
    "header folding is exercised by clients that display it",
    "Grüße aus München",
    "Réunion de l'équipe – ordre du jour",
    "Café ☕ on Friday?",
    "Ваш заказ отправлен",
    "会議の議事録",
    "Übersicht der Änderungen für Version 2.0",
    "Fiesta de cumpleaños 🎉",
    "Résumé attached",
    "Smörgåsbord at the office",
    "Ελληνικά: πρόγραμμα συνάντησης",
)

WORDS = (
    "the of and to in is that for it as with was on be by this are at from "
    "or have an they which one you had not but what all were when we there "
    "can been has more if will would about their so up out other into time "
    "only new some could these two may first then do any like my now over "
    "such our man me even most made after also did many before must through "
    "back years where much your way well down should because each just "
    "those people how too little state good very make world still see own "
    "work long get here between both life being under never day same "
    "another know while last might us great old year off come since against "
    "server mailbox message folder client browser latency release deploy "
    "review budget schedule meeting invoice report draft feedback question "
    "proposal timeline customer project estimate backlog sprint ticket"
).split()
INTL_WORDS = (
    "Grüße café naïve Übersicht résumé déjà smörgåsbord Straße façade "
    "jalapeño Ærø crème brûlée Zürich São Paulo Kraków Ωμέγα 日本語 "
    "пример 🙂 €100 ½ №5 ‘quoted’ — …"
).split()


class FastRandom(random.Random):
    """randrange through random(): several times faster than the stdlib's
    exact version and just as deterministic; the tiny bias is irrelevant."""

    def randrange(self, start, stop=None):  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))


def q_word(text: str, charset: str) -> str:
    """Encode text as RFC 2047 Q encoded words of at most 75 chars."""
    words, cur, cur_len = [], [], 0
    limit = 62 - len(charset) - 7  # whole word <= 62: fits after "Re: "
    for ch in text:
        raw = ch.encode(charset)
        piece = "".join(
            "_" if b == 0x20 else
            chr(b) if (0x30 <= b <= 0x39 or 0x41 <= b <= 0x5A
                       or 0x61 <= b <= 0x7A or b in b"!*+-/") else
            f"={b:02X}" for b in raw)
        if cur and cur_len + len(piece) > limit:
            words.append(cur)
            cur, cur_len = [], 0
        cur.append(piece)
        cur_len += len(piece)
    words.append(cur)
    return " ".join(f"=?{charset}?Q?{''.join(w)}?=" for w in words)


def b_word(text: str) -> str:
    """Encode text as RFC 2047 UTF-8 B encoded words, split on characters."""
    words, cur = [], b""
    for ch in text:
        raw = ch.encode()
        if cur and len(cur) + len(raw) > 39:  # 39 bytes -> 52 base64 chars
            words.append(cur)
            cur = b""
        cur += raw
    words.append(cur)
    return " ".join(
        f"=?UTF-8?B?{base64.b64encode(w).decode()}?=" for w in words)


def fold(line: str) -> str:
    """Fold a header line at spaces so lines stay within 78 characters."""
    if len(line) <= 78:
        return line
    name, first, *toks = line.split(" ")
    out, cur = [], f"{name} {first}"  # never fold right after "Name:"
    for tok in toks:
        if len(cur) + 1 + len(tok) > 78:
            out.append(cur)
            cur = " " + tok
        else:
            cur += " " + tok
    out.append(cur)
    return "\n".join(out)


def fold_addresses(name: str, addrs: list[str]) -> str:
    """Header with an address list, folded between addresses."""
    line = f"{name}: {', '.join(addrs)}"
    if len(line) <= 78:
        return line + "\n"
    out, cur = [], f"{name}: "
    for k, a in enumerate(addrs):
        piece = a + ("," if k < len(addrs) - 1 else "")
        if cur.strip().endswith(",") and len(cur) + len(piece) > 78:
            out.append(cur.rstrip())
            cur = " "
        cur += piece + " "
    out.append(cur.rstrip())
    return "\n".join(out) + "\n"


def display(name: str, addr: str, how: str | None) -> str:
    if how is None:
        phrase = name
    elif how == "quote":
        phrase = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif how == "b":
        phrase = b_word(name)
    elif how == "uq":
        phrase = q_word(name, "UTF-8")
    else:
        phrase = q_word(name, "ISO-8859-1")
    return f"{phrase} <{addr}>"


def phrase_style(name: str) -> str | None:
    """How display() must write a free-form display name."""
    if not name.isascii():
        return "b"
    return "quote" if any(c in '()<>[]:;@\\,."' for c in name) else None


def encode_subject(text: str, k: int) -> str:
    """Header form of a subject; rotates the three encodings for variety."""
    if text.isascii():
        return text
    if k % 3 == 1:
        try:
            return q_word(text, "ISO-8859-1")
        except UnicodeEncodeError:
            pass
    return q_word(text, "UTF-8") if k % 3 == 2 else b_word(text)


def make_png(rng: random.Random, w: int, h: int, noise: int) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        for x in range(w):
            n = rng.randrange(noise) if noise else 0
            rows += bytes(((x * 255 // w + n) & 255,
                           (y * 255 // h + n) & 255, (x ^ y) & 255))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
            + chunk(b"IEND", b""))


def make_pdf(lines: list[str]) -> bytes:
    text = "BT /F1 11 Tf 72 720 Td 14 TL\n" + "".join(
        "(" + ln.replace("\\", "\\\\").replace("(", "\\(")
        .replace(")", "\\)") + ") '\n" for ln in lines) + "ET\n"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%sendstream" % (len(text), text.encode()),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objs) + 1, xref))
    return bytes(out)


def b64_lines(data: bytes) -> str:
    enc = base64.b64encode(data).decode()
    return "\n".join(enc[k:k + 76] for k in range(0, len(enc), 76)) + "\n"


class Pools:
    """Everything that is costly to build, built once from the seed."""

    def __init__(self, rng: random.Random):
        self.people = [display(n, a, h) for n, a, h, _ in PEOPLE]
        self.first_names = [n.split(",")[-1].split()[0] for n, *_ in PEOPLE]
        self.addr = [a for _, a, _, _ in PEOPLE]
        self.sender_pick = [k for k, p in enumerate(PEOPLE)
                            for _ in range(p[3])]
        self.subjects = []  # (plain, "Re: ", "Fwd: ") header lines
        for k, s in enumerate(SUBJECTS):
            enc = encode_subject(s, k)
            self.subjects.append(tuple(
                fold(f"Subject: {p}{enc}") + "\n"
                for p in ("", "Re: ", "Fwd: ")))

        def para(intl: bool) -> str:
            words = [rng.choice(WORDS) for _ in range(rng.randrange(12, 90))]
            if intl:
                for _ in range(rng.randrange(2, 6)):
                    words.insert(rng.randrange(len(words)),
                                 rng.choice(INTL_WORDS))
            words[0] = words[0].capitalize()
            return textwrap.fill(" ".join(words) + ".", 72)

        self.ascii_paras = [para(False) for _ in range(300)]
        self.intl_paras = [para(True) for _ in range(200)]

        def quote(p: str) -> str:
            return "\n".join("> " + ln for ln in p.split("\n"))
        self.ascii_quotes = [quote(p) for p in self.ascii_paras[:100]]
        self.intl_quotes = [quote(p) for p in self.intl_paras[:100]]

        def html_escape(p: str) -> str:
            return (p.replace("&", "&amp;").replace("<", "&lt;")
                    .replace(">", "&gt;").replace("\n", " "))
        self.ascii_html = [f"<p>{html_escape(p)}</p>" for p in self.ascii_paras]
        self.intl_html = [f"<p>{html_escape(p)}</p>" for p in self.intl_paras]

        pdf_small = make_pdf([f"Report line {k}: {rng.choice(WORDS)}"
                              for k in range(20)])
        pdf_big = make_pdf([f"Invoice item {k}: {rng.choice(WORDS)} "
                            f"{rng.randrange(1, 999)}.{rng.randrange(100):02d}"
                            for k in range(300)])
        png_small = make_png(rng, 32, 32, 0)
        png_noisy = make_png(rng, 80, 80, 64)
        # (Content-Type line, Content-Disposition line, base64 body)
        self.attachments = [
            ('application/pdf; name="report.pdf"',
             'attachment; filename="report.pdf"', b64_lines(pdf_small)),
            ('image/png; name="chart.png"',
             'attachment; filename="chart.png"', b64_lines(png_small)),
            ('application/pdf; name="invoice-2024-0117.pdf"',
             'attachment; filename="invoice-2024-0117.pdf"',
             b64_lines(pdf_big)),
            ('image/png; name="photo.png"',
             'inline; filename="photo.png"', b64_lines(png_noisy)),
            # Thunderbird-style non-ASCII name: RFC 2047 in name=,
            # RFC 2231 in filename*=.
            (f'application/pdf;\n name="{b_word("Übersicht.pdf")}"',
             "attachment;\n filename*=UTF-8''%C3%9Cbersicht.pdf",
             b64_lines(pdf_small)),
        ]


def rfc5322_date(ts: int, off_min: int) -> str:
    t = time.gmtime(ts + off_min * 60)
    sign = "-" if off_min < 0 else "+"
    h, m = divmod(abs(off_min), 60)
    return (f"{WDAY[t.tm_wday]}, {t.tm_mday} {MONTH[t.tm_mon]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {sign}{h:02d}{m:02d}")


def spread_dates(rng: random.Random, count: int, end: int) -> list[int]:
    """Sorted, strictly increasing timestamps in (end - SPAN, end]."""
    ts = sorted(rng.randrange(end - SPAN, end) for _ in range(count))
    for k in range(1, count):
        if ts[k] <= ts[k - 1]:
            ts[k] = ts[k - 1] + 1
    if count:  # newest message at --end: "now" for a freshly made rig
        ts[-1] = max(ts[-1], end)
    return ts


def text_body(rng: random.Random, pools: Pools, greet: str, sign: str,
              intl: bool, quoted: str | None) -> str:
    paras = pools.intl_paras if intl else pools.ascii_paras
    parts = [f"Hi {greet},"]
    parts += [paras[rng.randrange(len(paras))]
              for _ in range(rng.randrange(1, 5))]
    parts.append(f"Best,\n{sign}")
    body = "\n\n".join(parts) + "\n"
    if quoted:
        body += "\n" + quoted + "\n"
    return body


def html_body(rng: random.Random, pools: Pools, greet: str, sign: str,
              intl: bool) -> str:
    paras = pools.intl_html if intl else pools.ascii_html
    inner = "\n".join(paras[rng.randrange(len(paras))]
                      for _ in range(rng.randrange(1, 5)))
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
            f'<body>\n<p>Hi {greet},</p>\n{inner}\n<p>Best,<br>{sign}</p>\n'
            "</body></html>\n")


def qp(text: str) -> str:
    return binascii.b2a_qp(text.encode(), istext=True).decode("ascii")


def leaf(ctype: str, body: str, force_qp: bool = False) -> str:
    """Content headers + body of a single text part."""
    if body.isascii() and not force_qp:
        return (f"Content-Type: {ctype}; charset=us-ascii\n"
                f"Content-Transfer-Encoding: 7bit\n\n{body}")
    return (f"Content-Type: {ctype}; charset=utf-8\n"
            f"Content-Transfer-Encoding: quoted-printable\n\n{qp(body)}")


def main() -> int:
    ap = argparse.ArgumentParser(
        description="Write realistic test messages into a Maildir.")
    ap.add_argument("--maildir", required=True,
                    help="Maildir path (INBOX = HOME/Maildir, a folder = "
                    "HOME/Maildir/.Name)")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--owner", help="chown everything written to this user")
    ap.add_argument("--kind", default="inbox",
                    choices=("inbox", "sent", "drafts", "archive"),
                    help="inbox: received mail with fixed points; sent/"
                    "drafts: written by --me; archive: received, all seen")
    ap.add_argument("--me", default="Alice Example <alice@example.test>",
                    help="the mailbox owner's address (recipient of "
                    "received mail, author of sent mail)")
    ap.add_argument("--end", type=int, default=None,
                    help="Unix time of the newest message (default: now)")
    args = ap.parse_args()
    if args.count < 0:
        ap.error("--count must be >= 0")
    m = re.fullmatch(r"\s*(.*?)\s*<([^<>\s]+)>\s*", args.me)
    if not m:
        ap.error('--me must look like "Name <addr@host>"')
    me_name, me_addr = m.group(1), m.group(2)
    me = display(me_name, me_addr, phrase_style(me_name))
    end = int(time.time()) if args.end is None else args.end

    uid = gid = None
    if args.owner:
        pw = pwd.getpwnam(args.owner)
        uid, gid = pw.pw_uid, pw.pw_gid

    started = time.monotonic()
    root = args.maildir
    made = []
    for d in (root, *(os.path.join(root, s) for s in ("cur", "new", "tmp"))):
        if not os.path.isdir(d):
            os.makedirs(d, mode=0o700, exist_ok=True)
            made.append(d)
    if os.path.basename(os.path.normpath(root)).startswith("."):
        marker = os.path.join(root, "maildirfolder")
        if not os.path.exists(marker):
            open(marker, "wb").close()
            made.append(marker)
    if uid is not None:
        for d in made:
            os.chown(d, uid, gid)

    rng = FastRandom(args.seed)
    pools = Pools(rng)
    dates = spread_dates(rng, args.count, end)
    n = args.count
    pid = os.getpid()
    inbox_like = args.kind in ("inbox", "archive")
    fixed = args.kind == "inbox"
    me_first = me_name.split()[0] if me_name else "there"
    threads: list[list] = []  # [subject index, [message ids], sender index]
    cur_fd = os.open(os.path.join(root, "cur"), os.O_RDONLY | os.O_DIRECTORY)
    open_flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    total = 0

    for i in range(n):
        ts = dates[i]
        zone = ZONES[rng.randrange(len(ZONES))]
        date = rfc5322_date(ts, zone)
        s = pools.sender_pick[rng.randrange(len(pools.sender_pick))]
        mid = f"<{i + 1:x}.{rng.getrandbits(48):012x}@{pools.addr[s].split('@')[1]}>"
        r = rng.random()
        body_kind = rng.random()
        intl = rng.random() < 0.35
        att = rng.randrange(len(pools.attachments))

        # --- addresses and threading
        ccs = []
        if inbox_like:
            frm = pools.people[s]
            tos = [me]
            if rng.random() < 0.25:
                tos += [pools.people[rng.randrange(len(PEOPLE))]
                        for _ in range(rng.randrange(1, 4))]
        else:
            frm = me
            tos = [pools.people[s]]
            if rng.random() < 0.2:
                tos.append(pools.people[rng.randrange(len(PEOPLE))])
        if rng.random() < 0.3:
            ccs = [pools.people[rng.randrange(len(PEOPLE))]
                   for _ in range(rng.randrange(1, 5))]
        thread_hdr = ""
        quoted = None
        if threads and r < 0.25:  # reply in a recent thread
            t = threads[-1 - rng.randrange(min(len(threads), 40))]
            subj = pools.subjects[t[0]][1]
            ids = t[1]
            refs = ids[-8:]
            thread_hdr = (f"In-Reply-To: {ids[-1]}\n"
                          + fold("References: " + " ".join(refs)) + "\n")
            qpool = pools.intl_quotes if intl else pools.ascii_quotes
            quoted = (f"On {date}, {PEOPLE[t[2]][0]} wrote:\n"
                      + qpool[rng.randrange(len(qpool))])
            ids.append(mid)
            t[2] = s
        elif threads and r < 0.29:  # forward
            t = threads[-1 - rng.randrange(min(len(threads), 40))]
            subj = pools.subjects[t[0]][2]
            thread_hdr = f"References: {t[1][-1]}\n"
        else:
            k = rng.randrange(len(SUBJECTS))
            subj = pools.subjects[k][0]
            threads.append([k, [mid], s])
            if len(threads) > 200:
                del threads[:100]

        # --- flags
        if args.kind == "inbox":
            seen = rng.random() >= 0.30
            flags = ("F" if rng.random() < 0.05 else "") + \
                    ("R" if seen and rng.random() < 0.15 else "") + \
                    ("S" if seen else "")
        elif args.kind == "drafts":
            flags = "DS"
        else:
            flags = ("F" if rng.random() < 0.05 else "") + "S"

        # --- body
        if inbox_like:
            greet, sign = me_first, PEOPLE[s][0]
        else:
            greet, sign = pools.first_names[s], me_name or me_addr
        if fixed and i == 0:
            frm, tos, ccs = WELCOME_FROM, [me], []
            subj = f"Subject: {WELCOME_SUBJECT}\n"
            thread_hdr, flags = "", "S"
            body = leaf("text/plain", (
                "This mailbox was generated by tests/rig/mailgen.py.\n\n"
                f"It holds {n} messages. This one is the oldest (UID 1);\n"
                "the newest one has the subject \"Newest test message "
                f"{n}\".\n"))
        elif fixed and i == n - 1:
            frm, tos, ccs = NEWEST_FROM, [me], []
            subj = f"Subject: {NEWEST_SUBJECT.format(n=n)}\n"
            thread_hdr, flags = "", ""
            body = leaf("text/plain", (
                f"This is message {n} of {n}, the newest in this mailbox.\n"))
        elif body_kind < 0.30:
            body = leaf("text/plain", text_body(
                rng, pools, greet, sign, False, quoted))
        elif body_kind < 0.45:
            body = leaf("text/plain", text_body(
                rng, pools, greet, sign, True, quoted))
        elif body_kind < 0.60:  # raw 8bit UTF-8
            body = ("Content-Type: text/plain; charset=utf-8; format=flowed\n"
                    "Content-Transfer-Encoding: 8bit\n\n"
                    + text_body(rng, pools, greet, sign, True, quoted))
        elif body_kind < 0.65:
            body = leaf("text/html", html_body(
                rng, pools, greet, sign, intl), force_qp=True)
        else:
            b = f"=_rig_{i + 1:x}_{rng.getrandbits(32):08x}"
            alt = (f'Content-Type: multipart/alternative; boundary="{b}a"\n\n'
                   f"--{b}a\n"
                   + leaf("text/plain", text_body(
                       rng, pools, greet, sign, intl, quoted))
                   + f"\n--{b}a\n"
                   + leaf("text/html", html_body(
                       rng, pools, greet, sign, intl), force_qp=True)
                   + f"\n--{b}a--\n")
            if body_kind < 0.90:
                body = alt
            else:
                ct, cd, data = pools.attachments[att]
                first = alt if rng.random() < 0.5 else leaf(
                    "text/plain", text_body(
                        rng, pools, greet, sign, intl, quoted))
                body = (f'Content-Type: multipart/mixed; boundary="{b}m"\n\n'
                        "This is a multi-part message in MIME format.\n"
                        f"--{b}m\n{first}\n--{b}m\n"
                        f"Content-Type: {ct}\n"
                        f"Content-Disposition: {cd}\n"
                        "Content-Transfer-Encoding: base64\n\n"
                        f"{data}\n--{b}m--\n")

        # --- header
        domain = frm.rsplit("@", 1)[1].rstrip(">")
        faddr = frm.rsplit("<", 1)[1].rstrip(">")
        hdr = []
        if inbox_like:
            relay = f"mail.{domain}"
            hdr.append(
                f"Return-Path: <{faddr}>\n"
                f"Delivered-To: {me_addr}\n"
                f"Received: from {relay} ({relay} [192.0.2.{s + 10}])\n"
                f"\tby mx.example.test (Postfix) with ESMTPS id "
                f"{rng.getrandbits(40):010X}\n"
                f"\tfor <{me_addr}>; {date}\n")
        hdr.append(f"Message-ID: {mid}\nDate: {date}\nFrom: {frm}\n")
        hdr.append(fold_addresses("To", tos))
        if ccs:
            hdr.append(fold_addresses("Cc", ccs))
        hdr.append(subj)
        hdr.append(thread_hdr)
        if faddr in LIST_SENDERS:
            lid = faddr.split("@")[0]
            hdr.append(f"List-Id: <{lid}.{domain}>\n"
                       f"List-Unsubscribe: <https://{domain}/unsubscribe/"
                       f"{rng.getrandbits(64):016x}>\n"
                       "Precedence: list\n")
        elif rng.random() < 0.5:
            hdr.append("User-Agent: Mozilla/5.0 Thunderbird/128.3.1\n"
                       "Content-Language: en-US\n")
        else:
            hdr.append("X-Mailer: Apple Mail (2.3774.600.62)\n")
        hdr.append("MIME-Version: 1.0\n")
        data = ("".join(hdr) + body).encode()

        size = len(data)
        vsize = size + data.count(b"\n")
        name = (f"{ts}.M{(i * 7919) % 1000000}P{pid}Q{i + 1}.rig,"
                f"S={size},W={vsize}:2,{flags}")
        fd = os.open(name, open_flags, 0o600, dir_fd=cur_fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if uid is not None:
                os.fchown(fd, uid, gid)
            os.utime(fd, (ts, ts))  # INTERNALDATE = Date header
        finally:
            os.close(fd)
        total += size

    os.close(cur_fd)
    print(f"mailgen: {n} messages, {total} bytes in {root} "
          f"({time.monotonic() - started:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
