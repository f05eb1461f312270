//! Conversations as RFC 5256 THREAD=REFERENCES defines them: the server's answer when it has
//! THREAD=REFERENCES, otherwise the engine's own over the summaries already fetched.

use crate::message::{MessageSummary, Uid};
use crate::sort::{base_subject, sent_date, sort_by_keys};
use client_wasm_receive::summary_header::id_hash;
use serde::Serialize;
use std::collections::HashMap;

/// References followed per message: a longer header costs time and adds nothing useful.
const MAX_REFERENCES: usize = 100;

/// One message in a conversation and the replies to it. `uid` is `None` for a message that
/// is referred to but not here (a dummy holding its replies together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadNode {
    pub uid: Option<Uid>,
    pub children: Vec<ThreadNode>,
}

/// Deepest nesting kept: deeper replies hang flat under the last level, so walking a tree
/// built from untrusted headers or a server's answer cannot exhaust the stack.
const MAX_DEPTH: usize = 200;

/// Converts the server's THREAD answer: `(1 2 (3)(4))` is 1, replied to by 2, whose replies
/// are 3 and 4; `((3)(5))` is a dummy holding 3 and 5.
pub(crate) fn from_wire(threads: &[imap_types::extensions::thread::Thread]) -> Vec<ThreadNode> {
    convert(threads, 0)
}

fn convert(threads: &[imap_types::extensions::thread::Thread], depth: usize) -> Vec<ThreadNode> {
    use imap_types::extensions::thread::Thread;
    threads
        .iter()
        .map(|thread| match thread {
            Thread::Members { prefix, answers } => {
                let prefix: Vec<Option<Uid>> =
                    prefix.as_ref().iter().map(|n| Uid::new(n.get())).collect();
                let (chain, flat) =
                    prefix.split_at(prefix.len().min(MAX_DEPTH.saturating_sub(depth).max(1)));
                let below = depth + chain.len();
                let mut children: Vec<ThreadNode> = flat
                    .iter()
                    .map(|&uid| ThreadNode {
                        uid,
                        children: Vec::new(),
                    })
                    .collect();
                if let Some(answers) = answers {
                    children.extend(convert(answers.as_ref(), below));
                }
                chain
                    .iter()
                    .rev()
                    .fold(children, |children, &uid| {
                        vec![ThreadNode { uid, children }]
                    })
                    .pop()
                    .unwrap_or(ThreadNode {
                        uid: None,
                        children: Vec::new(),
                    })
            }
            Thread::Nested { answers } => ThreadNode {
                uid: None,
                children: convert(answers.as_ref(), depth + 1),
            },
        })
        .collect()
}

/// A thread while it is built: messages by their index in the input.
struct Draft {
    message: Option<usize>,
    children: Vec<Draft>,
}

struct Container {
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// Threads `messages` by Message-ID, References and In-Reply-To (RFC 5256 REFERENCES steps
/// 1–4 and 6: link, find roots, prune dummies, sort by sent date then sequence number).
pub fn thread_by_references(messages: &[MessageSummary]) -> Vec<ThreadNode> {
    let mut table = Table::default();
    for (index, message) in messages.iter().enumerate() {
        table.add(index, message);
    }
    let roots: Vec<usize> = (0..table.containers.len())
        .filter(|&c| table.containers[c].parent.is_none())
        .collect();
    let mut drafts: Vec<Draft> = roots
        .into_iter()
        .flat_map(|root| table.prune(root, 0))
        .collect();
    sort_drafts(&mut drafts, messages);
    group_by_subject(drafts, messages)
}

#[derive(Default)]
struct Table {
    containers: Vec<Container>,
    /// Containers by the hash of their Message-ID ([`id_hash`]): 64 bits, so two IDs of one
    /// folder sharing a hash by chance is not a practical concern. One could be crafted
    /// (`id_hash` is no cryptographic hash), but only from the ID it collides with, and a
    /// sender who knows a thread's IDs can put them in References and join it anyway:
    /// threading shows what the headers claim, it authenticates nothing.
    ids: HashMap<u64, usize>,
}

impl Table {
    fn container(&mut self, id: u64) -> usize {
        if let Some(&index) = self.ids.get(&id) {
            return index;
        }
        let index = self.new_container();
        self.ids.insert(id, index);
        index
    }

    fn new_container(&mut self) -> usize {
        self.containers.push(Container {
            message: None,
            parent: None,
            children: Vec::new(),
        });
        self.containers.len() - 1
    }

    /// Step 1: the message's container, its references linked parent to child.
    fn add(&mut self, index: usize, message: &MessageSummary) {
        let own = match message
            .message_id
            .as_deref()
            .map(|id| id_hash(id.as_bytes()))
        {
            Some(id)
                if self
                    .ids
                    .get(&id)
                    .is_none_or(|&c| self.containers[c].message.is_none()) =>
            {
                self.container(id)
            }
            // No Message-ID, or one already taken: a container of its own.
            _ => self.new_container(),
        };
        self.containers[own].message = Some(index);
        let references: Vec<usize> = message
            .references
            .iter()
            .take(MAX_REFERENCES)
            .map(|&id| self.container(id))
            .collect();
        for pair in references.windows(2) {
            if let [parent, child] = *pair
                && self.containers[child].parent.is_none()
            {
                self.link(parent, child);
            }
        }
        self.unlink(own);
        if let Some(&parent) = references.last() {
            self.link(parent, own);
        }
    }

    /// Makes `child` a reply to `parent` unless that would close a loop.
    fn link(&mut self, parent: usize, child: usize) {
        // Only a container with replies of its own can close a loop: the common case of a
        // new message under its parent needs no walk up the tree.
        let has_replies = !self.containers[child].children.is_empty();
        if parent == child || (has_replies && self.descends_from(parent, child)) {
            return;
        }
        self.unlink(child);
        self.containers[child].parent = Some(parent);
        self.containers[parent].children.push(child);
    }

    fn unlink(&mut self, child: usize) {
        if let Some(parent) = self.containers[child].parent.take() {
            self.containers[parent].children.retain(|&c| c != child);
        }
    }

    /// Every message below `container`, as leaves, in tree order.
    fn flat_descendants(&self, container: usize) -> Vec<Draft> {
        let mut found = Vec::new();
        let mut stack: Vec<usize> = self.containers[container]
            .children
            .iter()
            .rev()
            .copied()
            .collect();
        while let Some(next) = stack.pop() {
            let entry = &self.containers[next];
            found.extend(entry.message.map(|message| Draft {
                message: Some(message),
                children: Vec::new(),
            }));
            stack.extend(entry.children.iter().rev());
        }
        found
    }

    /// Whether `node` is `ancestor` or below it.
    fn descends_from(&self, mut node: usize, ancestor: usize) -> bool {
        let mut steps = 0;
        loop {
            if node == ancestor {
                return true;
            }
            match self.containers[node].parent {
                Some(parent) if steps < self.containers.len() => node = parent,
                _ => return false,
            }
            steps += 1;
        }
    }

    /// Step 4: dummies without children vanish; a dummy's children move up, except that a
    /// root dummy with several children stays to hold them together.
    fn prune(&self, container: usize, depth: usize) -> Vec<Draft> {
        let entry = &self.containers[container];
        let children: Vec<Draft> = if depth < MAX_DEPTH {
            entry
                .children
                .iter()
                .flat_map(|&child| self.prune(child, depth + 1))
                .collect()
        } else {
            self.flat_descendants(container)
        };
        let at_root = depth == 0;
        match entry.message {
            Some(index) => vec![Draft {
                message: Some(index),
                children,
            }],
            None if at_root && children.len() > 1 => vec![Draft {
                message: None,
                children,
            }],
            None => children,
        }
    }
}

/// Step 6: siblings by sent date (a dummy by its first child's), then sequence number.
fn sort_drafts(drafts: &mut [Draft], messages: &[MessageSummary]) {
    for draft in drafts.iter_mut() {
        sort_drafts(&mut draft.children, messages);
    }
    let keys: Vec<Option<(Option<i64>, u32)>> = drafts
        .iter()
        .map(|draft| {
            let message = first_message(draft).and_then(|i| messages.get(i));
            message.map(|m| (sent_date(m), m.seq))
        })
        .collect();
    sort_by_keys(drafts, &keys);
}

fn first_message(draft: &Draft) -> Option<usize> {
    draft
        .message
        .or_else(|| draft.children.first().and_then(first_message))
}

/// Step 5, simplified: a root whose subject is a reply (`Re:`) to an earlier root's base
/// subject becomes that root's child. Then message indexes become UIDs.
fn group_by_subject(drafts: Vec<Draft>, messages: &[MessageSummary]) -> Vec<ThreadNode> {
    let mut grouped: Vec<Draft> = Vec::with_capacity(drafts.len());
    let mut by_subject: HashMap<String, usize> = HashMap::new();
    for node in drafts {
        let subject = first_message(&node)
            .and_then(|i| messages.get(i))
            .map(|m| base_subject(m.subject.as_deref().unwrap_or_default()));
        match subject {
            Some((subject, true)) if !subject.is_empty() && by_subject.contains_key(&subject) => {
                if let Some(root) = by_subject.get(&subject).and_then(|&i| grouped.get_mut(i)) {
                    root.children.push(node);
                }
            }
            Some((subject, _)) if !subject.is_empty() => {
                by_subject.entry(subject).or_insert(grouped.len());
                grouped.push(node);
            }
            _ => grouped.push(node),
        }
    }
    grouped
        .into_iter()
        .map(|node| resolve(node, messages))
        .collect()
}

fn resolve(node: Draft, messages: &[MessageSummary]) -> ThreadNode {
    ThreadNode {
        uid: node.message.and_then(|i| messages.get(i)).map(|m| m.uid),
        children: node
            .children
            .into_iter()
            .map(|child| resolve(child, messages))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: u32, id: &str, references: &[&str]) -> MessageSummary {
        MessageSummary {
            uid: Uid::new(seq).unwrap(),
            seq,
            flags: std::borrow::Cow::Borrowed(&[]),
            size: None,
            internal_date: Some(i64::from(seq)),
            date: None,
            from: None,
            subject: None,
            message_id: Some(id.to_owned()),
            has_attachments: false,
            references: references.iter().map(|r| id_hash(r.as_bytes())).collect(),
            thread: client_wasm_receive::summary_header::ThreadKeys::default(),
        }
    }

    fn depth(nodes: &[ThreadNode]) -> usize {
        nodes
            .iter()
            .map(|n| 1 + depth(&n.children))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn reference_loops_and_duplicate_ids_do_not_hang_or_lose_messages() {
        let threads = thread_by_references(&[
            message(1, "a", &["b"]),
            message(2, "b", &["a"]),
            message(3, "a", &[]),
            message(4, "d", &["d"]),
        ]);
        let mut uids = Vec::new();
        let mut stack: Vec<&ThreadNode> = threads.iter().collect();
        while let Some(node) = stack.pop() {
            uids.extend(node.uid.map(Uid::get));
            stack.extend(&node.children);
        }
        uids.sort_unstable();
        assert_eq!(uids, [1, 2, 3, 4]);
    }

    #[test]
    fn a_reply_chain_from_untrusted_headers_is_depth_limited() {
        let ids: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let messages: Vec<MessageSummary> = (0..1000_usize)
            .map(|i| {
                let parent: Vec<&str> = i
                    .checked_sub(1)
                    .map(|p| ids[p].as_str())
                    .into_iter()
                    .collect();
                message(i as u32 + 1, &ids[i], &parent)
            })
            .collect();
        let threads = thread_by_references(&messages);
        assert_eq!(threads.len(), 1);
        assert_eq!(depth(&threads), MAX_DEPTH + 2);
    }
}
