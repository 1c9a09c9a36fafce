//! The `-h` text.

/// Printed by `-h/--help` and after a flag error.
pub const USAGE: &str = "\
Usage: nats-server [options]

Server options:
    -a, --addr, --net <host>         Address to bind the client listener to (default: 0.0.0.0)
    -p, --port <port>                Client port (default: 4222; -1 picks a free port)
    -n, --name, --server_name <name> Server name (default: the server id)
    -P, --pid <file>                 Write the process id to this file
    -m, --http_port <port>           HTTP monitoring port (-1 picks a free port)
    -ms, --https_port <port>         HTTPS monitoring port (needs --tlscert/--tlskey or tls {})
    -c, --config <file>              Configuration file
    -t                               Check the configuration and exit
    -sl, --signal <signal>[=<pid>]   Send signal to nats-server process (ldm, stop, quit, term,
                                     reopen, reload); pid may be a pid file or end in *
        --client_advertise <url>     Client URL advertised to the cluster (not yet implemented)
        --ports_file_dir <dir>       Write <executable>_<pid>.ports with the listen URLs here

Logging options:
    -l, --log <file>                 Write the log to this file
    -T, --logtime                    Timestamp log lines (default: true)
        --logtime_utc                Timestamps in UTC instead of local time
    -s, --syslog                     Log to the local syslog (/dev/log)
    -r, --remote_syslog <addr>       Syslog server address (udp://127.0.0.1:514)
    -D, --debug                      Debug output
    -V, --trace                      Trace output
    -VV                              Verbose trace output
    -DV                              Debug and trace output
    -DVV                             Debug and verbose trace output
        --log_size_limit <size>      Rotate the log file past this many bytes
        --max_traced_msg_len <len>   Longest payload shown in traces (0: unlimited)

JetStream options (not yet implemented):
    -js, --jetstream                 Enable JetStream
    -sd, --store_dir <dir>           JetStream storage directory

Authorization options:
        --user <user>                User required to connect
        --pass <password>            Password required to connect
        --auth <token>               Token required to connect

TLS options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Cluster options (not yet implemented):
        --routes <url,url>           Routes to connect to
        --cluster <url>              Cluster URL for routes
        --cluster_name <name>        Cluster name
        --no_advertise <bool>        Do not advertise cluster members to clients
        --cluster_advertise <url>    Cluster URL advertised to other servers
        --connect_retries <n>        Connect retries for implicit routes
        --cluster_listen <url>       Cluster listen URL

Common options:
    -h, --help                       Show this message
    -v, --version                    Show the version
        --help_tls                   TLS help
";

/// What `--help_tls` prints: how to turn TLS on, from the command line or a `tls {}` block.
pub const TLS_USAGE: &str = "\
TLS for client connections is turned on by any of the --tls flags (unless --tls=false):

    nats-server --tlscert server-cert.pem --tlskey server-key.pem
    nats-server --tlsverify --tlscert server-cert.pem --tlskey server-key.pem \\
        --tlscacert ca.pem

or by the tls section of a configuration file:

    tls {
        cert_file:       \"./certs/server-cert.pem\"
        key_file:        \"./certs/server-key.pem\"
        ca_file:         \"./certs/ca.pem\"
        verify:          true
        timeout:         2
        handshake_first: false
    }

Certificates and keys are read as PEM (PKCS#8, PKCS#1 or SEC1 keys). TLS 1.2 and 1.3 are
offered, with the cipher suites of rustls (no cipher_suites or curve_preferences choice).
";
