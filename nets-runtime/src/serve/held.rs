//! A connection's place among [`ServeOptions::max_connections`](super::ServeOptions),
//! held by its stream.
//!
//! The place goes back when the stream is dropped, not when hyper's connection task
//! ends: an upgraded connection (a WebSocket) leaves that task with its stream, which
//! its handler keeps until the socket closes. Released with the task, each open socket
//! would have freed its place, and sockets beyond the limit would have used up the file
//! descriptors the limit is there to keep.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

/// A TCP stream and its connection's place.
#[derive(Debug)]
pub(super) struct Held {
    stream: TcpStream,
    _place: OwnedSemaphorePermit,
}

impl Held {
    pub(super) fn new(stream: TcpStream, place: OwnedSemaphorePermit) -> Held {
        Held { stream, _place: place }
    }
}

impl AsyncRead for Held {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

// Every method, the vectored ones included: hyper writes a head and its body in one
// `writev` only when the stream says it can.
impl AsyncWrite for Held {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
