//! Encoders: ops in, bytes appended to a caller's buffer. (API skeleton.)

use bytes::BytesMut;

/// Appends `MSG <subject> <sid> [reply] <len>\r\n<payload>\r\n`.
pub fn msg(buf: &mut BytesMut, subject: &[u8], sid: &[u8], reply: Option<&[u8]>, payload: &[u8]) {
    let _ = (buf, subject, sid, reply, payload);
    todo!()
}

/// Appends `HMSG <subject> <sid> [reply] <hdr len> <total len>\r\n<headers><payload>\r\n`.
pub fn hmsg(
    buf: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    headers: &[u8],
    payload: &[u8],
) {
    let _ = (buf, subject, sid, reply, headers, payload);
    todo!()
}
