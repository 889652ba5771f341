/* config.h: the runtime configuration, one JSON file parsed with jsmn.
 * Every error names file:line:column and the key, and makes config_load()
 * return -1 (the caller exits 2). Unknown keys and wrong types are errors.
 * A UTF-8 byte order mark before the text is skipped (columns count after
 * it); elasticsearch.url must be a URL the shipper can put in a request. */
#ifndef LURE_CONFIG_H
#define LURE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_LISTEN 4
#define CONFIG_MAX_PORTMAP 64
#define CONFIG_MAX_EXCLUDE 64
#define CONFIG_MAX_SCAN_IFACES 4

struct cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t bits;
	uint8_t addr[16];
};

struct config {
	char sensor_id[64];
	char hostname[64]; /* persona device name ("" = persona's) */
	char observer_host[64]; /* observer.hostname ("" = gethostname) */
	char listen[CONFIG_MAX_LISTEN][48];
	int nlisten;
	int port_offset; /* -1: auto (0 as root, 8000 otherwise) */
	struct {
		uint16_t from, to; /* persona port -> local port, 0 = off */
	} portmap[CONFIG_MAX_PORTMAP];
	int nportmap;
	struct cidr exclude[CONFIG_MAX_EXCLUDE];
	int nexclude;
	/* limits */
	unsigned max_conns, per_ip;
	unsigned ipv6_prefix; /* bits of an IPv6 source counted as one */
	unsigned request_timeout; /* seconds to the first request */
	unsigned refused_window; /* seconds a refusal event covers */
	/* bytes a UDP source may get beyond what it sent, per window
	 * (src/udpguard.h; 0: never more than it sent) */
	unsigned udp_grace;
	unsigned idle_timeout, session_timeout; /* seconds */
	unsigned max_input; /* bytes read from one connection */
	unsigned in_buf, out_buf; /* per-connection buffers, bytes */
	unsigned outbox_bytes;
	/* output */
	char output_file[256]; /* "-" = stdout */
	char user[64]; /* drop to this user after binding */
	char state_file[256]; /* per-instance identity ("" = ephemeral) */
	int run_as_root; /* allow staying root without user */
	unsigned heartbeat; /* seconds between status events, 0 = off */
	/* concurrent TLS server sessions for the persona's tls ports (the TLS
	 * heap grows by one session's worth each; 0 = serve no tls port) */
	unsigned tls_server_sessions;
	unsigned tls_handshake_timeout; /* s; 0: the persona's */
	/* scan observation (src/scan.h); no interface: every one but lo */
	int scan_enabled;
	char scan_ifaces[CONFIG_MAX_SCAN_IFACES][16];
	int nscan_ifaces;
	unsigned scan_window, scan_max_sources, scan_payload_bytes;
	/* the catch-all listener's port (src/sniff.h; 0: none) and a PROXY
	 * protocol header first on every TCP connection (src/proxyproto.h) */
	unsigned catch_all_port;
	int proxy_protocol;
	/* elasticsearch shipping ("" url = off) */
	struct config_es {
		char url[512];
		char index[128]; /* %Y %m %d %H...: event time, UTC */
		int data_stream; /* index names a data stream */
		char user[128], password[128], api_key[256];
		char ca_file[256];
		int insecure;
		unsigned batch_events, batch_bytes, flush_ms;
		unsigned retry_max_ms, timeout_ms;
		char dead_letter[256];
		char template_file[256];
		char pipeline
		        [64]; /* ingest pipeline named in the bulk request */
		char pipeline_file
		        [256]; /* PUT as _ingest/pipeline/<pipeline> */
		char resolver[64];
		char spool[256];
		unsigned spool_max_bytes;
	} es;
};

extern struct config config;

void
config_defaults(struct config *c);
/* Parse file into c (defaults first). Errors go to stderr; returns 0 or -1. */
int
config_load(struct config *c, const char *file);
/* Same, from memory (tests); name is used in messages. */
int
config_parse(struct config *c, const char *name, const char *json, size_t n);
/* elasticsearch.url from -e URL, checked as in a file (errors name "-e",
 * the column of the bad byte and the key); 0 or -1 after the message. */
int
config_url(struct config *c, const char *url);

/* Parse "a.b.c.d[/n]" or "x::y[/n]"; returns 0 or -1. */
int
config_cidr(const char *s, struct cidr *out);
/* family 4/6, addr in network order (4 or 16 bytes). */
int
config_cidr_match(const struct cidr *c, int family, const uint8_t *addr);
int
config_excluded(const struct config *c, int family, const uint8_t *addr);

#endif
