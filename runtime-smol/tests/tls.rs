//! The smol driver with TLS on client connections, over loopback sockets: the handshake
//! options the engine's settings carry (timeout, handshake first) and robustness against
//! clients that do not speak TLS. The cases are shared with the std driver.

use runtime_smol as runtime;

include!("../../runtime-tests/tls_cases.rs");
