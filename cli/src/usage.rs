//! The `-h` text.

/// Printed by `-h/--help` and after a flag error.
pub const USAGE: &str = "\
Usage: nats-server [options]

Server options:
    -a, --addr, --net <host>         Address to bind the client listener to (default: 0.0.0.0)
    -p, --port <port>                Client port (default: 4222; -1 picks a free port)
    -n, --name, --server_name <name> Server name (default: the server id)
    -P, --pid <file>                 Write the process id to this file
    -m, --http_port <port>           HTTP monitoring port (not yet implemented)
    -ms, --https_port <port>         HTTPS monitoring port (not yet implemented)
    -c, --config <file>              Configuration file (not yet implemented)
    -t                               Check the configuration and exit (not yet implemented)
    -sl, --signal <signal>[=<pid>]   Signal a running server (not yet implemented)
        --client_advertise <url>     Client URL advertised to the cluster (not yet implemented)
        --ports_file_dir <dir>       Write <executable>_<pid>.ports with the listen URLs here

Logging options:
    -l, --log <file>                 Write the log to this file
    -T, --logtime                    Timestamp log lines (default: true)
        --logtime_utc                Timestamps in UTC instead of local time
    -s, --syslog                     Log to syslog (not yet implemented)
    -r, --remote_syslog <addr>       Remote syslog address (not yet implemented)
    -D, --debug                      Debug output
    -V, --trace                      Trace output
    -VV                              Verbose trace output
    -DV                              Debug and trace output
    -DVV                             Debug and verbose trace output
        --log_size_limit <size>      Rotate the log at this size (not yet implemented)
        --max_traced_msg_len <len>   Longest traced message (not yet implemented)

JetStream options (not yet implemented):
    -js, --jetstream                 Enable JetStream
    -sd, --store_dir <dir>           JetStream storage directory

Authorization options:
        --user <user>                User required to connect
        --pass <password>            Password required to connect
        --auth <token>               Token required to connect

TLS options (not yet implemented):
        --tls                        Enable TLS without verifying clients
        --tlscert <file>             Server certificate
        --tlskey <file>              Server private key
        --tlsverify                  Enable TLS and verify client certificates
        --tlscacert <file>           CA certificate to verify clients with

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
        --help_tls                   TLS help (not yet implemented)
";
