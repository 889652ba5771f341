/* conn_side.c: see conn_side.h. No call blocks; an error closes one data
 * channel (the emulator hears EMU_SIDE_END), never its owner. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_side.h"
#include "emu_ctx.h"
#include "lure.h"
#include "poller.h"

#define SIDE_READ 4096 /* bytes read from a data connection per call */
#define SIDE_TRIES 8 /* random ports tried before the kernel picks one */

enum { S_FREE, S_LISTEN, S_OPEN };

struct side {
	int fd;
	uint8_t st, v6, close_after;
	uint8_t peer[16]; /* the owner's peer: the only one let in */
	uint32_t owner;
	const uint8_t *ref; /* what is left to send */
	size_t ref_len;
	uint8_t copy[EMU_SIDE_COPY]; /* emu_side_send()'s bytes */
};

static struct side sides[CONN_SIDE_MAX];
static uint32_t ref0;
static const struct conn_side_owner *own;

static void
side_poll(uint32_t i)
{
	struct side *s = &sides[i];

	poller_set(ref0 + i, s->fd,
	        (short)(POLLIN |
	                (s->st == S_OPEN && s->close_after ? POLLOUT : 0)));
}

static void
side_free(uint32_t i)
{
	struct side *s = &sides[i];

	if (s->st == S_FREE)
		return;
	poller_set(ref0 + i, -1, 0);
	close(s->fd);
	s->fd = -1;
	s->st = S_FREE;
	s->ref = NULL;
	s->ref_len = 0;
}

static long
side_of(size_t owner)
{
	for (uint32_t i = 0; i < CONN_SIDE_MAX; i++)
		if (sides[i].st != S_FREE && sides[i].owner == owner)
			return i;
	return -1;
}

/* Tell the owner's emulator, then let the owner move. */
static void
side_tell(uint32_t i, int ev, const uint8_t *p, size_t n)
{
	uint32_t o = sides[i].owner;
	struct emu_ctx *ctx = own->ctx(o);

	if (ctx->emu->on_side)
		ctx->emu->on_side(ctx, own->state(o), ev, p, n);
	own->kick(o);
}

static int
side_bind(int fd, int v6, const uint8_t *a, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (void *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		s6->sin6_port = htons(port);
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (void *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		s4->sin_port = htons(port);
		sl = sizeof *s4;
	}
	return bind(fd, (struct sockaddr *)&ss, sl);
}

static int
side_listen(struct emu_ctx *ctx, uint32_t owner)
{
	long old = side_of(owner);
	uint32_t i;
	struct side *s;
	uint8_t local[16] = {0};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int v6 = strchr(ctx->dst_ip, ':') != NULL, fd, t;

	if (old >= 0)
		side_free((uint32_t)old);
	for (i = 0; i < CONN_SIDE_MAX && sides[i].st != S_FREE; i++)
		;
	if (i == CONN_SIDE_MAX ||
	        inet_pton(v6 ? AF_INET6 : AF_INET, ctx->dst_ip, local) != 1)
		return -1;
	s = &sides[i];
	memset(s->peer, 0, sizeof s->peer);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, ctx->src_ip, s->peer) != 1)
		return -1;
	fd = socket(v6 ? AF_INET6 : AF_INET,
	        SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	for (t = 0; t < SIDE_TRIES; t++) {
		uint16_t r;
		lure_random(&r, sizeof r);
		if (side_bind(fd, v6, local, (uint16_t)(1024 + r % 64512)) == 0)
			break;
	}
	if ((t == SIDE_TRIES && side_bind(fd, v6, local, 0) < 0) ||
	        listen(fd, 1) < 0 ||
	        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->st = S_LISTEN;
	s->v6 = (uint8_t)v6;
	s->owner = owner;
	s->close_after = 0;
	side_poll(i);
	return ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                : ((struct sockaddr_in *)&ss)->sin_port);
}

/* the emulator's calls (src/emu_ctx.c), on its context */
static int
side_op(struct emu_ctx *ctx, int op, const void *p, size_t n)
{
	uint32_t owner = ctx->side_slot;
	long i = side_of(owner);

	if (op == EMU_SIDE_LISTEN)
		return side_listen(ctx, owner);
	if (i < 0)
		return -1;
	if (op == EMU_SIDE_CLOSE) {
		side_free((uint32_t)i);
		return 0;
	}
	if (sides[i].st != S_OPEN || sides[i].close_after)
		return -1;
	if (op == EMU_SIDE_SEND) /* n <= EMU_SIDE_COPY: emu_ctx.c */
		p = memcpy(sides[i].copy, p, n);
	sides[i].ref = p;
	sides[i].ref_len = n;
	sides[i].close_after = 1;
	side_poll((uint32_t)i);
	return 0;
}

void
conn_side_setup(uint32_t r0, const struct conn_side_owner *owner)
{
	ref0 = r0;
	own = owner;
	for (uint32_t i = 0; i < CONN_SIDE_MAX; i++)
		sides[i].fd = -1;
}

void
conn_side_attach(struct emu_ctx *ctx, size_t slot)
{
	ctx->side = side_op;
	ctx->side_slot = (uint32_t)slot;
}

static void
side_accept(uint32_t i)
{
	struct side *s = &sides[i];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd = accept4(s->fd, (struct sockaddr *)&ss, &sl,
	        SOCK_NONBLOCK | SOCK_CLOEXEC);
	const uint8_t *a;

	if (fd < 0)
		return;
	a = ss.ss_family == AF_INET6
	            ? ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr
	            : (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
	if (memcmp(a, s->peer, s->v6 ? 16 : 4) != 0) {
		close(fd); /* not the client's: vsftpd lets it go unread */
		return;
	}
	poller_set(ref0 + i, -1, 0);
	close(s->fd);
	s->fd = fd;
	s->st = S_OPEN;
	side_poll(i);
	side_tell(i, EMU_SIDE_OPEN, NULL, 0);
}

/* closed: n is what was still to send (0: all of it went) */
static void
side_end(uint32_t i)
{
	size_t left = sides[i].ref_len;

	side_free(i);
	side_tell(i, EMU_SIDE_END, NULL, left);
}

void
conn_side_handle(uint32_t i, short ev)
{
	struct side *s = &sides[i];
	static uint8_t buf[SIDE_READ];
	ssize_t n;

	if (i >= CONN_SIDE_MAX || s->st == S_FREE)
		return;
	if (s->st == S_LISTEN) {
		side_accept(i);
		return;
	}
	while ((ev & POLLOUT) && s->ref_len) {
		n = send(s->fd, s->ref, s->ref_len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			side_end(i);
			return;
		}
		s->ref += n;
		s->ref_len -= (size_t)n;
	}
	if (s->close_after && !s->ref_len) {
		side_end(i); /* sent: the close tells the client it is all */
		return;
	}
	if (ev & (POLLIN | POLLHUP | POLLERR)) {
		n = recv(s->fd, buf, sizeof buf, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		                     errno == EINTR))
			return;
		if (n <= 0) {
			side_end(i);
			return;
		}
		side_tell(i, EMU_SIDE_DATA, buf, (size_t)n);
		return;
	}
	side_poll(i);
}

void
conn_side_drop(size_t slot)
{
	long i = side_of(slot);

	if (i >= 0)
		side_free((uint32_t)i);
}
