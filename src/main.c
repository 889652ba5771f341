/* main.c: command line, start-up order (config, outputs, bind, drop
 * privileges, loop) and exit codes: 0 stopped by a signal, 1 run-time
 * failure (bind, output), 2 bad usage or config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certgen.h"
#include "config.h"
#include "conn.h"
#include "emu.h"
#include "event.h"
#include "fmt.h"
#include "identity.h"
#include "loop.h"
#include "lure.h"
#include "out_file.h"
#include "outbox.h"
#include "persona.h"
#include "platform.h"
#include "ship.h"

static void
usage(FILE *f)
{
	fmt_fprintf(f,
	        "usage: lure [-c config.json] [-e URL] [-t] [-V] [-h]\n"
	        "  -c FILE  configuration (JSON; defaults without it)\n"
	        "  -e URL   ship to this Elasticsearch URL (overrides the "
	        "config's elasticsearch.url)\n"
	        "  -t       check the configuration and exit (0 ok, 2 bad)\n"
	        "  -V       print version, persona, TLS backend, emulators, "
	        "ports\n");
}

static void
version(void)
{
	fmt_printf("lure %s\npersona %s\ntls %s\nemulators", LURE_VERSION,
	        persona_name, LURE_TLS);
	for (size_t i = 0; emu_registry[i]; i++)
		fmt_printf(" %s", emu_registry[i]->name);
	fmt_printf("\n");
	for (size_t i = 0; i < persona_nports; i++)
		fmt_printf("port %u/%s %s%s\n", persona_ports[i].port,
		        persona_ports[i].transport == EMU_UDP ? "udp" : "tcp",
		        persona_ports[i].emu,
		        persona_ports[i].tls ? " tls" : "");
	for (size_t i = 0; i < persona_nkv; i++)
		if (persona_kv[i].klen > 9 &&
		        memcmp(persona_kv[i].key, "identity.", 9) == 0)
			fmt_printf("identity %s\n", persona_kv[i].key + 9);
}

int
main(int argc, char **argv)
{
	static struct event_identity id;
	static char host[64], err[256];
	const char *file = NULL, *es_url = NULL;
	int check = 0, opt;
	uint8_t boot[8];

	while ((opt = getopt(argc, argv, "c:e:tVh")) != -1) {
		switch (opt) {
		case 'c': file = optarg; break;
		case 'e': es_url = optarg; break;
		case 't': check = 1; break;
		case 'V': version(); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	config_defaults(&config);
	if (file && config_load(&config, file) < 0)
		return 2;
	if (es_url && strlen(es_url) >= sizeof config.es.url) {
		fmt_fprintf(stderr, "lure: -e: URL too long\n");
		return 2;
	}
	if (es_url)
		strcpy(config.es.url, es_url);
	if (check) {
		if (!file)
			fmt_fprintf(stderr,
			        "lure: no -c FILE: the defaults are valid\n");
		else
			fmt_fprintf(stderr, "lure: %s: ok\n", file);
		return 0;
	}
	if (geteuid() == 0 && !config.user[0] && !config.run_as_root) {
		fmt_fprintf(stderr,
		        "lure: %s: refusing to run as root: set \"user\" "
		        "to drop to after binding, or \"run_as_root\": "
		        "true\n",
		        file ? file : "(defaults)");
		return 2;
	}

	if (outbox_init(config.outbox_bytes) < 0)
		lure_die(1, "out of memory for the outbox");
	lure_random(boot, sizeof boot);
	for (size_t i = 0; i < sizeof boot; i++)
		fmt_snprintf(id.boot_id + 2 * i, 3, "%02x", boot[i]);
	if (config.observer_host[0])
		fmt_snprintf(host, sizeof host, "%s", config.observer_host);
	else if (gethostname(host, sizeof host - 1) < 0)
		strcpy(host, "unknown");
	id.sensor_id = config.sensor_id;
	id.hostname = host;
	id.persona = persona_name;
	event_setup(&id);

	if (identity_load(config.state_file, err, sizeof err) < 0) {
		fmt_fprintf(stderr, "lure: %s\n", err);
		return 1;
	}
	if (certgen_setup(config.tls_server_sessions, err, sizeof err) < 0) {
		fmt_fprintf(stderr, "lure: %s\n", err);
		return 1;
	}
	for (size_t i = 0; emu_registry[i]; i++)
		if (emu_registry[i]->on_start &&
		        emu_registry[i]->on_start(err, sizeof err) < 0) {
			fmt_fprintf(stderr, "lure: %s: %s\n",
			        emu_registry[i]->name, err);
			return 1;
		}
	if (out_file_open(config.output_file) < 0)
		return 1;
	if (!config.state_file[0])
		lure_log("IDENTITY ephemeral (no state_file: a new device at "
		         "every start)");
	if (ship_setup(&config) < 0)
		return 2;
	platform_raise_nofile((long)config.max_conns + 256 + 32);
	if (conn_setup(&config) < 0)
		return 1;
	if (config.user[0]) {
		if (geteuid() == 0) {
			if (platform_drop_privileges(config.user) < 0)
				return 1;
		} else {
			lure_log("USER name=%s ignored=not_root", config.user);
		}
	}
	loop_signals();
	loop_status("start");
	return loop_run();
}
