//! A small SMTP server on loopback for tests of email delivery, shared by the
//! notifier's unit tests and the server's end-to-end tests.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the SMTP sink received in one session.
#[derive(Debug, Default)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
}

/// An SMTP server on 127.0.0.1 for one session, speaking just enough of the
/// protocol for a client to send a message. With `refuse_rcpt`, it refuses
/// every recipient as a real server refuses an unknown mailbox.
pub async fn smtp_sink(refuse_rcpt: bool) -> (u16, tokio::task::JoinHandle<Mail>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let session = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        let mut mail = Mail::default();
        write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250 sink\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                mail.mail_from = command[10..].to_owned();
                b"250 2.1.0 Ok\r\n"
            } else if upper.starts_with("RCPT TO:") {
                if refuse_rcpt {
                    b"550 5.1.1 No such user here\r\n"
                } else {
                    mail.rcpt_to.push(command[8..].to_owned());
                    b"250 2.1.5 Ok\r\n"
                }
            } else if upper == "DATA" {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .unwrap();
                loop {
                    line.clear();
                    lines.read_line(&mut line).await.unwrap();
                    if line == ".\r\n" || line.is_empty() {
                        break;
                    }
                    // Undo the client's dot-stuffing (RFC 5321 4.5.2).
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    mail.data.push_str(unstuffed);
                }
                b"250 2.0.0 Queued\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 2.0.0 Bye\r\n").await.unwrap();
                break;
            } else if upper == "RSET" || upper == "NOOP" {
                b"250 2.0.0 Ok\r\n"
            } else {
                b"502 5.5.2 Command not recognised\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
        mail
    });
    (port, session)
}
