//! The live streams as pure values: what a client may send and what the server answers
//! (`protocol`, `server`, `filter`), the bounded history of one stream that answers "give me everything after
//! offset N" or says plainly that it cannot (`history`), and what keeps a slow client from
//! growing the server's memory (`outbox`: coalescing of fast-changing state, a bounded
//! queue for what must not be dropped).
//!
//! No I/O, no async, no clock: callers pass `now_ms`. The server's WebSocket hub (the
//! live-updates issue) drives it.
//!
//! ```text
//! change --History::push--> (epoch, offset) --> each subscribed client's Outbox
//!   client reconnects with (epoch, offset) --History::resume--> Deltas | NotRecovered
//!   Outbox: cases and alarms queued (full: disconnect, resume by offset);
//!           device values coalesced per key, latest wins, at most once per interval
//! ```

mod filter;
mod history;
mod outbox;
mod protocol;
mod server;

pub use filter::Filter;
pub use history::{Epoch, History, Offset, Resume, Unrecoverable};
pub use outbox::{Outbox, Overflow};
pub use protocol::{Channel, ClientMessage, MAX_CLIENT_MESSAGE, ProtocolError, Subscriptions};
pub use server::{NotRecoveredReason, ServerMessage, close, delta_text};
