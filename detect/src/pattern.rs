//! A matcher for libphonenumber's number patterns: whole-string matches of
//! short digit strings against `\d`, digit classes, `(?:…)`, `|`, `?` and
//! `{n}` / `{n,m}`, the only syntax the metadata's number columns use.
//!
//! It runs on sets of positions rather than one path at a time: a set is a
//! bitmask (bit `p` = "the pattern so far can end at position `p`"), so an
//! alternation of a hundred branches costs a hundred mask operations, most
//! of them stopping at their first class, and a whole match is one pass over
//! the pattern, never backtracking. That is what makes validation cheap
//! enough to run on every candidate of a page (a general-purpose regex
//! engine simulating the same automaton state by state was most of the
//! detection time). A pattern using other syntax is not compiled here
//! ([`Pattern::parse`] returns None) and the caller falls back to a regex.

/// Longest digit string matched (positions must fit in a `u32` mask).
pub(crate) const MAX_LEN: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// One digit from a set (bit `d` = digit `d`).
    Class(u16),
    Seq(Vec<Node>),
    /// Branches, each with the digits it can start with (bit 10: it can
    /// match nothing), so that a branch that cannot start here is skipped.
    Alt(Vec<(u16, Node)>),
    Repeat(Box<Node>, u8, u8),
}

/// A compiled number pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern(Node);

/// The positions of each digit in the input: `at[d]` has bit `p` set when
/// the input's `p`-th character is digit `d`.
struct Input {
    at: [u32; 10],
    /// Every position (what `\d` matches).
    all: u32,
}

impl Pattern {
    /// Compiles `source`, or None if it uses syntax beyond the subset above.
    pub(crate) fn parse(source: &str) -> Option<Pattern> {
        let mut p = Parser {
            s: source.as_bytes(),
            i: 0,
        };
        let node = p.alt(0)?;
        (p.i == p.s.len()).then_some(Pattern(node))
    }

    /// Whether the pattern matches all of `digits` (ASCII digits only).
    pub(crate) fn full_match(&self, digits: &str) -> bool {
        let bytes = digits.as_bytes();
        if bytes.len() > MAX_LEN {
            return false;
        }
        let mut input = Input {
            at: [0; 10],
            all: (1 << bytes.len()) - 1,
        };
        for (p, b) in bytes.iter().enumerate() {
            let Some(d) = b.checked_sub(b'0').filter(|d| *d < 10) else {
                return false;
            };
            input.at[usize::from(d)] |= 1 << p;
        }
        run(&self.0, 1, &input) & (1 << bytes.len()) != 0
    }
}

/// The positions where `node` can end, starting from any position in `from`.
fn run(node: &Node, from: u32, input: &Input) -> u32 {
    if from == 0 {
        return 0;
    }
    match node {
        Node::Class(DIGITS) => (from & input.all) << 1,
        Node::Class(set) => {
            let mut here = 0;
            let mut bits = *set;
            while bits != 0 {
                let d = bits.trailing_zeros() as usize;
                here |= input.at[d];
                bits &= bits - 1;
            }
            (from & here) << 1
        }
        Node::Seq(items) => items.iter().fold(from, |at, n| run(n, at, input)),
        Node::Alt(items) => {
            let mut next = EMPTY;
            for (d, at) in input.at.iter().enumerate() {
                if at & from != 0 {
                    next |= 1 << d;
                }
            }
            items
                .iter()
                .filter(|(first, _)| first & next != 0)
                .fold(0, |out, (_, n)| out | run(n, from, input))
        }
        Node::Repeat(inner, min, max) => {
            let mut at = from;
            for _ in 0..*min {
                at = run(inner, at, input);
                if at == 0 {
                    return 0;
                }
            }
            let mut out = at;
            for _ in *min..*max {
                at = run(inner, at, input);
                if at == 0 {
                    break;
                }
                out |= at;
            }
            out
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

const DIGITS: u16 = 0x3ff;
/// In a set of first digits: the node can also match the empty string.
const EMPTY: u16 = 1 << 10;

/// The digits `node` can start with, plus [`EMPTY`] if it can match nothing.
fn firsts(node: &Node) -> u16 {
    match node {
        Node::Class(set) => *set,
        Node::Seq(items) => {
            let mut out = 0;
            for n in items {
                let f = firsts(n);
                out |= f & DIGITS;
                if f & EMPTY == 0 {
                    return out;
                }
            }
            out | EMPTY
        }
        Node::Alt(items) => items.iter().fold(0, |out, (f, _)| out | f),
        Node::Repeat(inner, min, _) => {
            let f = firsts(inner);
            if *min == 0 { f | EMPTY } else { f }
        }
    }
}
/// Deepest nesting of groups accepted (the metadata's is under 10).
const MAX_DEPTH: usize = 32;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn alt(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut branches = vec![self.seq(depth)?];
        while self.eat(b'|') {
            branches.push(self.seq(depth)?);
        }
        Some(if branches.len() == 1 {
            branches.pop()?
        } else {
            Node::Alt(branches.into_iter().map(|b| (firsts(&b), b)).collect())
        })
    }

    fn seq(&mut self, depth: usize) -> Option<Node> {
        let mut items = vec![];
        while let Some(b) = self.peek() {
            if b == b'|' || b == b')' {
                break;
            }
            let atom = self.atom(depth)?;
            items.push(self.quantified(atom)?);
        }
        Some(if items.len() == 1 {
            items.pop()?
        } else {
            Node::Seq(items)
        })
    }

    fn atom(&mut self, depth: usize) -> Option<Node> {
        let b = self.peek()?;
        self.i += 1;
        match b {
            b'0'..=b'9' => Some(Node::Class(1 << (b - b'0'))),
            b'\\' => self.eat(b'd').then_some(Node::Class(DIGITS)),
            b'[' => self.class(),
            b'(' => {
                if !(self.eat(b'?') && self.eat(b':')) {
                    return None;
                }
                let inner = self.alt(depth + 1)?;
                self.eat(b')').then_some(inner)
            }
            _ => None,
        }
    }

    /// After `[`: digits, ranges and `\d`, up to `]`.
    fn class(&mut self) -> Option<Node> {
        let mut set = 0u16;
        loop {
            let b = self.peek()?;
            self.i += 1;
            match b {
                b']' if set != 0 => return Some(Node::Class(set)),
                b'\\' if self.eat(b'd') => set |= DIGITS,
                b'0'..=b'9' => {
                    let lo = b - b'0';
                    let hi = if self.peek() == Some(b'-')
                        && self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit)
                    {
                        let hi = self.s[self.i + 1] - b'0';
                        self.i += 2;
                        hi
                    } else {
                        lo
                    };
                    if hi < lo {
                        return None;
                    }
                    for d in lo..=hi {
                        set |= 1 << d;
                    }
                }
                _ => return None,
            }
        }
    }

    fn number(&mut self) -> Option<u8> {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    fn quantified(&mut self, atom: Node) -> Option<Node> {
        let (min, max) = if self.eat(b'?') {
            (0, 1)
        } else if self.eat(b'{') {
            let min = self.number()?;
            let max = if self.eat(b',') { self.number()? } else { min };
            if !self.eat(b'}') {
                return None;
            }
            (min, max)
        } else {
            return Some(atom);
        };
        // A lazy or possessive suffix, or a bound beyond any number's length,
        // is outside the subset.
        if matches!(self.peek(), Some(b'?' | b'+' | b'*' | b'{'))
            || max < min
            || usize::from(max) > MAX_LEN
        {
            return None;
        }
        Some(Node::Repeat(Box::new(atom), min, max))
    }
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
