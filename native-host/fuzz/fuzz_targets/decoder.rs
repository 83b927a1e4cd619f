//! Arbitrary bytes on the host's stdin: the frame decoder and the session must
//! never panic, never accept a frame over the cap (it is skipped), and answer every frame with
//! a reply that fits in one frame and is a valid response.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use ringside_core::protocol::{MAX_FRAME_BYTES, Response};
use ringside_host::framing::{Inbound, NativeMessagingCodec};
use ringside_host::serve::{HostIdentity, Session, encode_reply};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let mut codec = NativeMessagingCodec::default();
    let mut session = Session::new(HostIdentity {
        host_version: "0.0.0".into(),
        pid: 1,
        os: "fuzz".into(),
    });
    // Feed in two uneven chunks so partial headers and bodies are exercised.
    let split = data.len() / 3;
    let mut buf = BytesMut::from(&data[..split]);
    let mut fed_rest = false;
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(Inbound::Oversized { declared })) => {
                assert!(declared > MAX_FRAME_BYTES as u64);
            }
            Ok(Some(Inbound::Message(frame))) => {
                assert!(frame.len() <= MAX_FRAME_BYTES);
                let reply = encode_reply(&session.handle_body(&frame));
                assert!(reply.len() <= MAX_FRAME_BYTES);
                let _: Response = serde_json_parse(&reply);
            }
            Ok(None) if !fed_rest => {
                buf.extend_from_slice(&data[split..]);
                fed_rest = true;
            }
            Ok(None) => {
                let _ = codec.decode_eof(&mut buf);
                break;
            }
            Err(_) => break,
        }
    }
});

fn serde_json_parse(bytes: &[u8]) -> Response {
    match serde_json::from_slice(bytes) {
        Ok(r) => r,
        Err(e) => panic!("the host wrote an invalid response: {e}"),
    }
}
