/* main.c: command line, start-up order (config, outputs, bind, drop
 * privileges, loop) and exit codes: 0 stopped by a signal, 1 run-time
 * failure (bind, output, a file the user lure runs as cannot write), 2 bad
 * usage or config. -t runs the same start() up to what binds or writes, and
 * exits with the code a start would (0 when it would run). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit.h"
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
#include "scan.h"
#include "ship.h"

static void
usage(int fd)
{
	fmt_dprintf(fd,
	        "usage: lure [-c config.json] [-e URL] [-t] [-V] [-h]\n"
	        "  -c FILE  configuration (JSON; defaults without it)\n"
	        "  -e URL   ship to this Elasticsearch URL (overrides the "
	        "config's elasticsearch.url)\n"
	        "  -t       check as a start would, binding and writing "
	        "nothing; exit as it would\n"
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
		        !LURE_TLS_SERVER || !persona_ports[i].tls ? ""
		        : persona_ports[i].tls == 1               ? " tls"
		                                    : " starttls");
	for (size_t i = 0; i < persona_nkv; i++)
		if (persona_kv[i].klen > 9 &&
		        memcmp(persona_key(&persona_kv[i]), "identity.", 9) ==
		                0)
			fmt_printf("identity %s\n",
			        persona_key(&persona_kv[i]) + 9);
}

/* The files lure writes, opened as the user it starts as: the output file
 * is created again after the drop (HUP: log rotation), state_file replaced
 * through a file beside it; the last two only when shipping. */
static const struct {
	const char *name;
	uint16_t off;
} files[] = {
        {"output", offsetof(struct config, output_file)},
        {"state_file", offsetof(struct config, state_file)},
        {"elasticsearch.dead_letter", offsetof(struct config, es.dead_letter)},
        {"spool", offsetof(struct config, es.spool)},
};

/* 0 when lure can write every file it writes: as it starts (who ""; an
 * existing file, else its directory), or (who "as user ...: ") create the
 * output file in its directory after the drop; else 1 after a message. */
static int
files_check(const char *who)
{
	for (size_t i = 0; i < LURE_ARRAY_LEN(files); i++) {
		char *p = (char *)&config + files[i].off, *s = strrchr(p, '/');
		struct stat st;
		int r = 0, after = *who, dir = after || i == 1;

		if (!*p || strcmp(p, "-") == 0 || (after && i) ||
		        (i > 1 && !config.es.url[0]))
			continue;
		if (stat(p, &st) < 0)
			dir = 1, r = errno == ENOENT ? 0 : -1;
		else if (S_ISDIR(st.st_mode))
			r = -1, errno = EISDIR;
		else if (!S_ISREG(st.st_mode)) /* a device: no rotation */
			dir = 0, r = after ? 0 : access(p, W_OK);
		else if (!after)
			r = access(p, W_OK);
		if (!r && dir) { /* its directory, cut at the last '/' */
			if (s)
				*s = '\0';
			r = access(!s ? "." : s == p ? "/" : p, W_OK | X_OK);
			if (s)
				*s = '/';
		}
		if (r) {
			fmt_dprintf(2, "lure: %s \"%s\": %s%s\n", files[i].name,
			        p, who, fmt_strerror(errno));
			return 1;
		}
	}
	return 0;
}

/* Drop to config.user (as root), then check what lure writes later as the
 * user it runs as (-t too: it exits right after). Returns 0 or the exit
 * code. */
static int
drop(int check)
{
	char who[96];

	fmt_snprintf(who, sizeof who, "as uid %u: ", (unsigned)getuid());
	if (config.user[0] && geteuid() == 0) {
		fmt_snprintf(who, sizeof who, "as user \"%s\": ", config.user);
		if (platform_drop_privileges(config.user) < 0)
			return 1;
	} else if (config.user[0] && !check) {
		lure_log("USER name=%s ignored=not_root", config.user);
	}
	return files_check(who);
}

/* Every start-up step in order; under -t (check) each one that does not bind
 * a port or write a file (lure_checking: the shipper opens nothing), the
 * drop included. Returns 0 to run, else the exit code. Not inlined: main's
 * inlining budget goes to the loop (x86_64 LTO: 384 bytes smaller). */
__attribute__((noinline)) static int
start(int check, const char *file)
{
	static struct event_identity id;
	static char host[64], err[256];
	uint8_t boot[8];

	if (!check && geteuid() == 0 && !config.user[0] &&
	        !config.run_as_root) {
		fmt_dprintf(2,
		        "lure: %s: refusing to run as root: set \"user\" "
		        "to drop to after binding, or \"run_as_root\": "
		        "true\n",
		        file ? file : "(defaults)");
		return 2;
	}
	lure_checking = check;
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

	if (files_check(""))
		return 1;
	if (check) /* the state file is written: no identity, no keys */
		goto ship;
	if (identity_load(config.state_file, err, sizeof err) < 0 ||
	        certgen_setup(config.tls_server_sessions, err, sizeof err) <
	                0) {
		fmt_dprintf(2, "lure: %s\n", err);
		return 1;
	}
	for (size_t i = 0; emu_registry[i]; i++)
		if (emu_registry[i]->on_start &&
		        emu_registry[i]->on_start(err, sizeof err) < 0) {
			fmt_dprintf(2, "lure: %s: %s\n", emu_registry[i]->name,
			        err);
			return 1;
		}
	if (out_file_open(config.output_file) < 0)
		return 1;
	if (!config.state_file[0])
		lure_log("IDENTITY ephemeral (no state_file: a new device at "
		         "every start)");
ship:
	if (ship_setup(&config) < 0)
		return 2;
	if (!check) {
		admit_setup(&config); /* may lower max_conns */
		if (conn_setup(&config) < 0)
			return 1;
	}
	if (!LURE_SCAN && config.scan_enabled) {
		fmt_dprintf(2, "lure: scan.enabled: this build has no "
		               "scan observation (SCAN=0)\n");
		return 2;
	}
	if (LURE_SCAN && scan_setup(&config) < 0) /* before the drop */
		return 1;
	return drop(check);
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *es_url = NULL;
	int check = 0, i, r;

	/* getopt(argc, argv, "c:e:tVh") as musl's (POSIX: options end at
	 * the first operand or "--"), without its stdio and multibyte code */
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *p = argv[i] + 1, **arg;
		if (strcmp(p, "-") == 0) {
			i++;
			break;
		}
		for (; *p; p++) {
			if (*p == 'c' || *p == 'e') {
				arg = *p == 'c' ? &file : &es_url;
				if (!(*arg = p[1] ? p + 1 : argv[++i])) {
					fmt_dprintf(2,
					        "%s: option requires an "
					        "argument: %c\n",
					        argv[0], *p);
					usage(2);
					return 2;
				}
				break;
			}
			switch (*p) {
			case 't': check = 1; break;
			case 'V': version(); return 0;
			case 'h': usage(1); return 0;
			default:
				fmt_dprintf(2, "%s: unrecognized option: %c\n",
				        argv[0], *p);
				usage(2);
				return 2;
			}
		}
	}
	if (i != argc) {
		usage(2);
		return 2;
	}
	config_defaults(&config);
	if ((file && config_load(&config, file) < 0) ||
	        (es_url && config_url(&config, es_url) < 0))
		return 2;
	if ((r = start(check, file)) != 0 || check) {
		if (!r)
			fmt_dprintf(2,
			        file ? "lure: %s: ok\n"
			             : "lure: no -c FILE: the defaults are "
			               "valid\n",
			        file);
		return r;
	}
	loop_signals();
	loop_status("start");
	return loop_run();
}
