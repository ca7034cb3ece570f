//! Packets on the socket, through `rumqttc`'s codec (`mqttbytes::v4`), which never panics
//! on bytes it reads.

use bytes::BytesMut;
use rumqttc::Packet;
use rumqttc::mqttbytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads the next packet, reading more bytes as needed. `Ok(None)` at a clean end of stream.
pub(super) async fn read_packet(
    stream: &mut (impl AsyncReadExt + Unpin),
    buffer: &mut BytesMut,
    max: usize,
) -> Result<Option<Packet>, String> {
    loop {
        match Packet::read(buffer, max) {
            Ok(packet) => return Ok(Some(packet)),
            Err(mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(e) => return Err(format!("malformed packet: {e}")),
        }
        buffer.reserve(4096);
        let n = stream.read_buf(buffer).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return if buffer.is_empty() { Ok(None) } else { Err("connection closed mid-packet".into()) };
        }
    }
}

pub(super) async fn write_packet(stream: &mut TcpStream, packet: &Packet, max: usize) -> Result<(), String> {
    let mut out = BytesMut::with_capacity(packet.size() + 8);
    packet.write(&mut out, max.max(packet.size())).map_err(|e| e.to_string())?;
    stream.write_all(&out).await.map_err(|e| e.to_string())
}
