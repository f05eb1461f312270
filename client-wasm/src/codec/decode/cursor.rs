//! A position in one framed message and the grammar's terminals (RFC 3501 §9), read the way
//! imap-codec reads them so that both decoders agree on every message imap-codec accepts.

use imap_types::core::{
    AString, Atom, AtomExt, IString, Literal, LiteralMode, NString, Quoted, Text,
};
use imap_types::utils::indicators::{is_astring_char, is_atom_char, is_text_char};
use imap_types::utils::unescape_quoted;
use std::num::{NonZeroU32, NonZeroU64};

/// The message does not follow the grammar here (one reason is enough: the caller falls back
/// to its lenient repairs or skips the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mismatch;

pub(crate) type Parsed<T> = Result<T, Mismatch>;

/// Nesting deeper than this is refused (bodies and their extensions share one budget,
/// threads have their own): bodies nest once per MIME level and threads once per reply,
/// and no real message comes near it.
pub(crate) const MAX_DEPTH: usize = 64;

#[derive(Clone, Copy)]
pub(crate) struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { input, pos: 0 }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.input.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.input[self.pos..]
    }

    /// Consumes `byte` if it comes next.
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.pos += usize::from(next);
        next
    }

    pub(crate) fn byte(&mut self, byte: u8) -> Parsed<()> {
        self.eat(byte).then_some(()).ok_or(Mismatch)
    }

    pub(crate) fn sp(&mut self) -> Parsed<()> {
        self.byte(b' ')
    }

    pub(crate) fn crlf(&mut self) -> Parsed<()> {
        self.tag(b"\r\n")
    }

    /// Consumes `word` (ASCII, any case) if it comes next.
    pub(crate) fn eat_tag(&mut self, word: &[u8]) -> bool {
        let matched = self
            .rest()
            .get(..word.len())
            .is_some_and(|next| next.eq_ignore_ascii_case(word));
        if matched {
            self.pos += word.len();
        }
        matched
    }

    pub(crate) fn tag(&mut self, word: &[u8]) -> Parsed<()> {
        self.eat_tag(word).then_some(()).ok_or(Mismatch)
    }

    /// The longest run of bytes that satisfy `accept`, possibly empty.
    pub(crate) fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let length = rest.iter().position(|&b| !accept(b)).unwrap_or(rest.len());
        self.pos += length;
        &rest[..length]
    }

    pub(crate) fn take_while1(&mut self, accept: impl Fn(u8) -> bool) -> Parsed<&'a [u8]> {
        let run = self.take_while(accept);
        if run.is_empty() {
            Err(Mismatch)
        } else {
            Ok(run)
        }
    }

    pub(crate) fn take(&mut self, length: usize) -> Parsed<&'a [u8]> {
        let taken = self.rest().get(..length).ok_or(Mismatch)?;
        self.pos += length;
        Ok(taken)
    }

    /// Runs `parse` and rewinds when it fails, for the grammar's alternatives.
    pub(crate) fn attempt<T>(&mut self, parse: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        let saved = self.pos;
        let parsed = parse(self);
        if parsed.is_err() {
            self.pos = saved;
        }
        parsed
    }

    /// `item *(SP item)`, ending before a separator that no item follows (as nom's
    /// `separated_list1` does).
    pub(crate) fn separated1<T>(
        &mut self,
        item: impl FnMut(&mut Self) -> Parsed<T>,
    ) -> Parsed<Vec<T>> {
        self.separated1_by(b' ', item)
    }

    /// `item *(separator item)`.
    pub(crate) fn separated1_by<T>(
        &mut self,
        separator: u8,
        mut item: impl FnMut(&mut Self) -> Parsed<T>,
    ) -> Parsed<Vec<T>> {
        let first = item(self)?;
        Ok(self.gather(vec![first], Some(separator), item))
    }

    /// `[item *(SP item)]`.
    pub(crate) fn separated0<T>(
        &mut self,
        item: impl FnMut(&mut Self) -> Parsed<T>,
    ) -> Parsed<Vec<T>> {
        Ok(self.attempt(|c| c.separated1(item)).unwrap_or_default())
    }

    /// `*(separator item)`.
    pub(crate) fn repeated<T>(
        &mut self,
        separator: u8,
        item: impl FnMut(&mut Self) -> Parsed<T>,
    ) -> Vec<T> {
        self.gather(Vec::new(), Some(separator), item)
    }

    /// `minimum*item`, with nothing between the items.
    pub(crate) fn at_least<T>(
        &mut self,
        minimum: usize,
        item: impl FnMut(&mut Self) -> Parsed<T>,
    ) -> Parsed<Vec<T>> {
        let items = self.gather(Vec::new(), None, item);
        if items.len() < minimum {
            return Err(Mismatch);
        }
        Ok(items)
    }

    /// `items`, then `*([separator] item)`.
    fn gather<T>(
        &mut self,
        mut items: Vec<T>,
        separator: Option<u8>,
        mut item: impl FnMut(&mut Self) -> Parsed<T>,
    ) -> Vec<T> {
        while let Ok(next) = self.attempt(|c| {
            if let Some(separator) = separator {
                c.byte(separator)?;
            }
            item(c)
        }) {
            items.push(next);
        }
        items
    }

    /// `"(" inner ")"`.
    pub(crate) fn parenthesized<T>(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Parsed<T>,
    ) -> Parsed<T> {
        self.byte(b'(')?;
        let value = inner(self)?;
        self.byte(b')')?;
        Ok(value)
    }

    fn digits(&mut self) -> Parsed<&'a str> {
        self.str_of(|b| b.is_ascii_digit())
    }

    pub(crate) fn number(&mut self) -> Parsed<u32> {
        self.digits()?.parse().map_err(|_| Mismatch)
    }

    pub(crate) fn number64(&mut self) -> Parsed<u64> {
        self.digits()?.parse().map_err(|_| Mismatch)
    }

    pub(crate) fn nz_number(&mut self) -> Parsed<NonZeroU32> {
        NonZeroU32::new(self.number()?).ok_or(Mismatch)
    }

    /// RFC 7162's `mod-sequence-value`.
    pub(crate) fn mod_sequence_value(&mut self) -> Parsed<NonZeroU64> {
        NonZeroU64::new(self.number64()?).ok_or(Mismatch)
    }

    /// The longest non-empty run of bytes that satisfy `accept`, as text.
    pub(crate) fn str_of(&mut self, accept: impl Fn(u8) -> bool) -> Parsed<&'a str> {
        let run = self.take_while1(accept)?;
        std::str::from_utf8(run).map_err(|_| Mismatch)
    }

    pub(crate) fn atom(&mut self) -> Parsed<Atom<'a>> {
        Ok(Atom::unvalidated(self.str_of(is_atom_char)?))
    }

    pub(crate) fn text(&mut self) -> Parsed<Text<'a>> {
        Ok(Text::unvalidated(self.str_of(is_text_char)?))
    }

    pub(crate) fn nil(&mut self) -> Parsed<()> {
        self.tag(b"NIL")
    }

    pub(crate) fn quoted(&mut self) -> Parsed<Quoted<'a>> {
        self.byte(b'"')?;
        let start = self.pos;
        loop {
            match self.peek().ok_or(Mismatch)? {
                b'"' => break,
                b'\\' => {
                    self.pos += 1;
                    if !matches!(self.peek(), Some(b'"' | b'\\')) {
                        return Err(Mismatch);
                    }
                }
                byte if !is_text_char(byte) => return Err(Mismatch),
                _ => {}
            }
            self.pos += 1;
        }
        let inner = std::str::from_utf8(&self.input[start..self.pos]).map_err(|_| Mismatch)?;
        self.pos += 1;
        Ok(Quoted::unvalidated(unescape_quoted(inner)))
    }

    /// `"{" number ["+"] "}" CRLF *CHAR8`; `binary` allows NUL (RFC 3516's literal8 body).
    pub(crate) fn literal_data(&mut self, binary: bool) -> Parsed<(&'a [u8], LiteralMode)> {
        self.byte(b'{')?;
        let length = self.number()?;
        let mode = if self.eat(b'+') {
            LiteralMode::NonSync
        } else {
            LiteralMode::Sync
        };
        self.byte(b'}')?;
        self.crlf()?;
        let data = self.take(usize::try_from(length).map_err(|_| Mismatch)?)?;
        if !binary && data.contains(&0) {
            return Err(Mismatch);
        }
        Ok((data, mode))
    }

    pub(crate) fn literal(&mut self) -> Parsed<Literal<'a>> {
        let (data, mode) = self.literal_data(false)?;
        let mut literal = Literal::unvalidated(data);
        literal.set_mode(mode);
        Ok(literal)
    }

    pub(crate) fn string(&mut self) -> Parsed<IString<'a>> {
        match self.peek() {
            Some(b'"') => self.quoted().map(IString::Quoted),
            Some(b'{') => self.literal().map(IString::Literal),
            _ => Err(Mismatch),
        }
    }

    pub(crate) fn nstring(&mut self) -> Parsed<NString<'a>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string().map(|string| NString(Some(string))),
            _ => self.nil().map(|()| NString(None)),
        }
    }

    pub(crate) fn astring(&mut self) -> Parsed<AString<'a>> {
        match self.str_of(is_astring_char) {
            Ok(atom) => Ok(AString::Atom(AtomExt::unvalidated(atom))),
            Err(_) => self.string().map(AString::String),
        }
    }
}
