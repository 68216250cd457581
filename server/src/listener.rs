//! A TCP listener whose WebSocket connections close with 1009 ("message too
//! big") when a client sends a message over the size limit, as Sails does.
//!
//! socketioxide's WebSocket transport gives up on such a message by dropping
//! the connection: the client sees 1006 (closed abnormally), and, as the
//! server closes a socket with the rest of the message still unread, the
//! kernel may reset it. [`GuardedStream`] watches the frames on the wire
//! instead: once a connection has switched protocols (a `101` answer went
//! out), it reads the length in each frame header the client sends, and at
//! the first message over the limit it stops handing bytes up (the transport
//! sees an error and lets go), writes a close frame with code 1009 at the
//! next frame boundary, half-closes, and reads what the client still sends,
//! for a little while, so that the close frame is not lost to a reset.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::serve::{Listener, ListenerExt, TapIo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A close frame from the server (unmasked): code 1009, no reason.
const CLOSE_TOO_BIG: [u8; 4] = [0x88, 0x02, 0x03, 0xF1];
/// How long a connection closed for a too-big message keeps reading (and
/// discarding) what the client still sends.
const DRAIN_TIME: Duration = Duration::from_secs(2);
/// The start of the answer that switches a connection to WebSocket.
const SWITCHING: &[u8] = b"HTTP/1.1 101 ";

/// What [`guarded`] returns: a listener axum serves with
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub type GuardedListener = TapIo<FrameGuard, fn(&mut GuardedStream)>;

/// Wraps `listener` so that its WebSocket connections close with 1009 when a
/// client sends a message of more than `max_message` bytes (set it to
/// [`SocketsConfig::max_payload`](crate::SocketsConfig::max_payload)):
///
/// ```rust,no_run
/// # async fn serve(app: axum::Router) -> std::io::Result<()> {
/// let config = sails_server::SocketsConfig::default();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:1337").await?;
/// let listener = sails_server::listener::guarded(listener, &config);
/// axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
/// # }
/// ```
pub fn guarded(listener: TcpListener, config: &crate::SocketsConfig) -> GuardedListener {
    let max_message = config.max_payload;
    // The tap adds nothing; it gives the listener axum's `ConnectInfo<SocketAddr>`.
    FrameGuard {
        listener,
        max_message,
    }
    .tap_io(|_| {})
}

/// The listener inside [`GuardedListener`].
#[derive(Debug)]
pub struct FrameGuard {
    listener: TcpListener,
    max_message: u64,
}

impl Listener for FrameGuard {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.listener).await;
        (GuardedStream::new(stream, self.max_message), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// Frame headers being read off a byte stream: where the next one starts,
/// and how long each is.
#[derive(Debug, Default)]
struct Frames {
    /// Bytes of the header being read.
    header: [u8; 14],
    /// How many of them have arrived.
    have: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
}

/// A frame header, once whole.
struct Header {
    fin: bool,
    opcode: u8,
    payload: u64,
}

impl Frames {
    /// Whether the stream is between two frames.
    fn at_boundary(&self) -> bool {
        self.have == 0 && self.payload_left == 0
    }

    /// How long the header being read is, once its first two bytes are in.
    fn header_len(&self) -> Option<usize> {
        (self.have >= 2).then(|| {
            let mask = if self.header[1] & 0x80 != 0 { 4 } else { 0 };
            let extended = match self.header[1] & 0x7F {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            2 + extended + mask
        })
    }

    /// Takes in one byte of header; returns the header once it is whole.
    fn push_header_byte(&mut self, byte: u8) -> Option<Header> {
        self.header[self.have] = byte;
        self.have += 1;
        let len = self.header_len()?;
        if self.have < len {
            return None;
        }
        let payload = match self.header[1] & 0x7F {
            126 => u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
            127 => {
                let mut bytes = [0; 8];
                bytes.copy_from_slice(&self.header[2..10]);
                u64::from_be_bytes(bytes)
            }
            short => u64::from(short),
        };
        let header = Header {
            fin: self.header[0] & 0x80 != 0,
            opcode: self.header[0] & 0x0F,
            payload,
        };
        self.have = 0;
        self.payload_left = payload;
        Some(header)
    }

    /// Follows `bytes` through the frames; calls `on_header` with each header
    /// completed and where in `bytes` that header began (it may have begun in
    /// an earlier call: then 0). Stops, returning that position, when
    /// `on_header` says so.
    fn scan(&mut self, bytes: &[u8], mut on_header: impl FnMut(&Header) -> bool) -> Option<usize> {
        let mut at = 0;
        let mut header_start = 0;
        while at < bytes.len() {
            if self.payload_left > 0 {
                let skip = usize::try_from(self.payload_left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len() - at);
                at += skip;
                self.payload_left -= skip as u64;
                continue;
            }
            if self.have == 0 {
                header_start = at;
            }
            let byte = bytes[at];
            at += 1;
            if let Some(header) = self.push_header_byte(byte)
                && on_header(&header)
            {
                return Some(header_start);
            }
        }
        None
    }
}

/// The client's side of a WebSocket connection: its frames and the size of
/// the message they add up to, against the limit.
#[derive(Debug)]
pub(crate) struct Incoming {
    frames: Frames,
    /// Bytes of the current message so far.
    message_len: u64,
    max_message: u64,
}

impl Incoming {
    pub(crate) fn new(max_message: u64) -> Self {
        Self {
            frames: Frames::default(),
            message_len: 0,
            max_message,
        }
    }

    /// Follows `bytes`, the next ones the client sent; returns where in them
    /// the header of the first message over the limit begins (0 when it began
    /// in earlier bytes).
    pub(crate) fn check(&mut self, bytes: &[u8]) -> Option<usize> {
        let (max, message_len) = (self.max_message, &mut self.message_len);
        self.frames.scan(bytes, |header| {
            if header.opcode >= 8 {
                return false; // control frames do not count, and come between fragments
            }
            let total = message_len.saturating_add(header.payload);
            *message_len = if header.fin { 0 } else { total };
            total > max
        })
    }
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// HTTP requests and answers.
    Http,
    /// The `101` answer is being written: this many bytes of it are left.
    Switching(usize),
    /// WebSocket frames both ways.
    WebSocket,
    /// A message over the limit arrived: reading is over, and the close
    /// frame goes out at the next boundary of what is written.
    TooBig,
    /// The close frame is out; whatever else is written is dropped.
    Closed,
}

/// A TCP connection of a [`GuardedListener`].
#[derive(Debug)]
pub struct GuardedStream {
    /// `None` once [`Drop`] has taken it to close it gracefully.
    inner: Option<TcpStream>,
    phase: Phase,
    /// What the client sends.
    incoming: Incoming,
    /// Frames the server writes.
    outgoing: Frames,
    /// How much of [`CLOSE_TOO_BIG`] has been written.
    close_written: usize,
}

impl GuardedStream {
    fn new(inner: TcpStream, max_message: u64) -> Self {
        Self {
            inner: Some(inner),
            phase: Phase::Http,
            incoming: Incoming::new(max_message),
            outgoing: Frames::default(),
            close_written: 0,
        }
    }

    fn inner(&mut self) -> Pin<&mut TcpStream> {
        // Only `Drop` takes the stream, and nothing runs after it.
        Pin::new(
            self.inner
                .as_mut()
                .expect("the stream is taken only when dropped"),
        )
    }

    /// Writes what is left of the close frame.
    fn poll_close_frame(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.close_written < CLOSE_TOO_BIG.len() {
            let rest = &CLOSE_TOO_BIG[self.close_written..];
            let written = ready!(self.inner().poll_write(cx, rest))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.close_written += written;
        }
        self.phase = Phase::Closed;
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if matches!(this.phase, Phase::TooBig | Phase::Closed) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "message too big",
            )));
        }
        let before = buf.filled().len();
        ready!(this.inner().poll_read(cx, buf))?;
        if this.phase == Phase::WebSocket
            && let Some(start) = this.incoming.check(&buf.filled()[before..])
        {
            tracing::debug!("a client sent a message over the size limit: closing with 1009");
            this.phase = Phase::TooBig;
            // The frame that is too big is not handed up.
            buf.set_filled(before + start);
            if start == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "message too big",
                )));
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.phase {
            Phase::Closed => return Poll::Ready(Ok(buf.len())),
            Phase::TooBig if this.outgoing.at_boundary() => {
                ready!(this.poll_close_frame(cx))?;
                return Poll::Ready(Ok(buf.len()));
            }
            Phase::Http if buf.starts_with(SWITCHING) => {
                let head = buf.windows(4).position(|w| w == b"\r\n\r\n");
                this.phase = match head {
                    Some(end) => Phase::Switching(end + 4),
                    // A head split over writes: its frames cannot be followed.
                    None => Phase::Http,
                };
            }
            _ => {}
        }
        let written = ready!(this.inner().poll_write(cx, buf))?;
        match this.phase {
            Phase::Switching(left) if written >= left => {
                this.phase = Phase::WebSocket;
                this.outgoing.scan(&buf[left..written], |_| false);
            }
            Phase::Switching(left) => this.phase = Phase::Switching(left - written),
            Phase::WebSocket | Phase::TooBig => {
                this.outgoing.scan(&buf[..written], |_| false);
            }
            Phase::Http | Phase::Closed => {}
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.phase == Phase::TooBig && this.outgoing.at_boundary() {
            ready!(this.poll_close_frame(cx))?;
        }
        this.inner().poll_shutdown(cx)
    }
}

impl Drop for GuardedStream {
    fn drop(&mut self) {
        if !matches!(self.phase, Phase::TooBig | Phase::Closed) {
            return;
        }
        let (Some(mut stream), Ok(runtime)) =
            (self.inner.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let close = if self.phase == Phase::TooBig && self.outgoing.at_boundary() {
            &CLOSE_TOO_BIG[self.close_written..]
        } else {
            &[][..]
        };
        runtime.spawn(async move {
            let _ = tokio::time::timeout(DRAIN_TIME, async {
                stream.write_all(close).await?;
                stream.shutdown().await?;
                let mut sink = [0; 16 * 1024];
                while stream.read(&mut sink).await? > 0 {}
                io::Result::Ok(())
            })
            .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame header (masked) for a payload of `len` bytes.
    fn client_header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
        let mut header = vec![if fin { 0x80 } else { 0 } | opcode];
        match len {
            0..=125 => header.push(0x80 | len as u8),
            126..=0xFFFF => {
                header.push(0x80 | 126);
                header.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                header.push(0x80 | 127);
                header.extend_from_slice(&len.to_be_bytes());
            }
        }
        header.extend_from_slice(&[1, 2, 3, 4]);
        header
    }

    fn frame(fin: bool, opcode: u8, len: usize) -> Vec<u8> {
        let mut frame = client_header(fin, opcode, len as u64);
        frame.extend(std::iter::repeat_n(b'x', len));
        frame
    }

    fn scan_all(max: u64, chunks: &[&[u8]]) -> Option<(usize, usize)> {
        let mut incoming = Incoming::new(max);
        chunks
            .iter()
            .enumerate()
            .find_map(|(i, chunk)| incoming.check(chunk).map(|at| (i, at)))
    }

    #[test]
    fn messages_within_the_limit_pass() {
        let mut bytes = frame(true, 1, 100);
        bytes.extend(frame(true, 2, 1000));
        bytes.extend(frame(true, 9, 4)); // a ping
        assert_eq!(scan_all(1000, &[&bytes]), None);
        // Split anywhere, even inside headers.
        for split in 1..bytes.len() {
            let (a, b) = bytes.split_at(split);
            assert_eq!(scan_all(1000, &[a, b]), None, "split at {split}");
        }
    }

    #[test]
    fn a_message_over_the_limit_is_found_at_its_first_byte() {
        let small = frame(true, 1, 10);
        let big = client_header(true, 1, 70_000);
        let bytes = [small.clone(), big].concat();
        assert_eq!(scan_all(65_536, &[&bytes]), Some((0, small.len())));
        let huge = client_header(true, 2, 1 << 40);
        assert_eq!(scan_all(u64::from(u32::MAX), &[&huge]), Some((0, 0)));
    }

    #[test]
    fn fragments_add_up_and_control_frames_do_not() {
        let mut bytes = frame(false, 1, 600);
        bytes.extend(frame(true, 9, 100)); // a ping between fragments
        let second = bytes.len();
        bytes.extend(client_header(true, 0, 600));
        assert_eq!(scan_all(1000, &[&bytes]), Some((0, second)));
        // A header split over reads is reported at the start of the read that completes it.
        let (a, b) = bytes.split_at(second + 1);
        assert_eq!(scan_all(1000, &[a, b]), Some((1, 0)));
    }
}
