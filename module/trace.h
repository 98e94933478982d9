/* SPDX-License-Identifier: GPL-2.0 */
/*
 * irqroute: tracepoints (events/irqroute/ in tracefs). What a route does:
 * the gate's decision for each signal, the deferred hand-off, mask and
 * unmask through the ioctls, commits, attach/detach, create/destroy.
 * Off, each costs a static branch.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM irqroute

#if !defined(IRQROUTE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define IRQROUTE_TRACE_H

#include <linux/tracepoint.h>

TRACE_DEFINE_ENUM(IRQROUTE_GATE_DELIVERED);
TRACE_DEFINE_ENUM(IRQROUTE_GATE_PENDED);
TRACE_DEFINE_ENUM(IRQROUTE_GATE_DEFERRED);
TRACE_DEFINE_ENUM(IRQROUTE_GATE_FEEDBACK);
TRACE_DEFINE_ENUM(IRQROUTE_TRACE_MASK);
TRACE_DEFINE_ENUM(IRQROUTE_TRACE_UNMASK);
TRACE_DEFINE_ENUM(IRQROUTE_TRACE_UNMASK_PENDING);

/* A signal on a route's trigger, and what the gate did with it. */
TRACE_EVENT(irqroute_gate,
	    TP_PROTO(u32 gsi, u32 index, int action),
	    TP_ARGS(gsi, index, action),
	    TP_STRUCT__entry(__field(u32, gsi)
			     __field(u32, index)
			     __field(int, action)),
	    TP_fast_assign(__entry->gsi = gsi;
			   __entry->index = index;
			   __entry->action = action;),
	    TP_printk("gsi=%u index=%u %s", __entry->gsi, __entry->index,
		      __print_symbolic(__entry->action,
				       { IRQROUTE_GATE_DELIVERED, "delivered" },
				       { IRQROUTE_GATE_PENDED, "pended" },
				       { IRQROUTE_GATE_DEFERRED, "deferred" },
				       { IRQROUTE_GATE_FEEDBACK, "feedback" }))
);

/* The deferred hand-off ran: delivered, or found the route masked. */
TRACE_EVENT(irqroute_handoff,
	    TP_PROTO(u32 gsi, u32 index, bool delivered),
	    TP_ARGS(gsi, index, delivered),
	    TP_STRUCT__entry(__field(u32, gsi)
			     __field(u32, index)
			     __field(bool, delivered)),
	    TP_fast_assign(__entry->gsi = gsi;
			   __entry->index = index;
			   __entry->delivered = delivered;),
	    TP_printk("gsi=%u index=%u %s", __entry->gsi, __entry->index,
		      __entry->delivered ? "delivered" : "pended")
);

/* MASK and UNMASK ioctls; @fired: the pending interrupt went to KVM. */
TRACE_EVENT(irqroute_mask,
	    TP_PROTO(u32 gsi, u32 index, int op, bool fired),
	    TP_ARGS(gsi, index, op, fired),
	    TP_STRUCT__entry(__field(u32, gsi)
			     __field(u32, index)
			     __field(int, op)
			     __field(bool, fired)),
	    TP_fast_assign(__entry->gsi = gsi;
			   __entry->index = index;
			   __entry->op = op;
			   __entry->fired = fired;),
	    TP_printk("gsi=%u index=%u %s%s", __entry->gsi, __entry->index,
		      __print_symbolic(__entry->op,
				       { IRQROUTE_TRACE_MASK, "mask" },
				       { IRQROUTE_TRACE_UNMASK, "unmask" },
				       { IRQROUTE_TRACE_UNMASK_PENDING,
					 "unmask_pending_only" }),
		      __entry->fired ? " fired_pending" : "")
);

/* A commit: sent to KVM (its answer in @ret) or skipped as unchanged. */
TRACE_EVENT(irqroute_commit,
	    TP_PROTO(u32 gsi_base, u32 entries, bool skipped, int ret),
	    TP_ARGS(gsi_base, entries, skipped, ret),
	    TP_STRUCT__entry(__field(u32, gsi_base)
			     __field(u32, entries)
			     __field(bool, skipped)
			     __field(int, ret)),
	    TP_fast_assign(__entry->gsi_base = gsi_base;
			   __entry->entries = entries;
			   __entry->skipped = skipped;
			   __entry->ret = ret;),
	    TP_printk("gsi_base=%u %s entries=%u ret=%d", __entry->gsi_base,
		      __entry->skipped ? "skipped" : "sent", __entry->entries,
		      __entry->ret)
);

DECLARE_EVENT_CLASS(irqroute_range,
		    TP_PROTO(u32 gsi_base, u32 nr_routes, int ret),
		    TP_ARGS(gsi_base, nr_routes, ret),
		    TP_STRUCT__entry(__field(u32, gsi_base)
				     __field(u32, nr_routes)
				     __field(int, ret)),
		    TP_fast_assign(__entry->gsi_base = gsi_base;
				   __entry->nr_routes = nr_routes;
				   __entry->ret = ret;),
		    TP_printk("gsi_base=%u nr_routes=%u ret=%d", __entry->gsi_base,
			      __entry->nr_routes, __entry->ret)
);

DEFINE_EVENT(irqroute_range, irqroute_attach,
	     TP_PROTO(u32 gsi_base, u32 nr_routes, int ret),
	     TP_ARGS(gsi_base, nr_routes, ret)
);

DEFINE_EVENT(irqroute_range, irqroute_detach,
	     TP_PROTO(u32 gsi_base, u32 nr_routes, int ret),
	     TP_ARGS(gsi_base, nr_routes, ret)
);

DECLARE_EVENT_CLASS(irqroute_route,
		    TP_PROTO(u32 gsi, u32 index, int ret),
		    TP_ARGS(gsi, index, ret),
		    TP_STRUCT__entry(__field(u32, gsi)
				     __field(u32, index)
				     __field(int, ret)),
		    TP_fast_assign(__entry->gsi = gsi;
				   __entry->index = index;
				   __entry->ret = ret;),
		    TP_printk("gsi=%u index=%u ret=%d", __entry->gsi, __entry->index,
			      __entry->ret)
);

DEFINE_EVENT(irqroute_route, irqroute_route_create,
	     TP_PROTO(u32 gsi, u32 index, int ret),
	     TP_ARGS(gsi, index, ret)
);

DEFINE_EVENT(irqroute_route, irqroute_route_destroy,
	     TP_PROTO(u32 gsi, u32 index, int ret),
	     TP_ARGS(gsi, index, ret)
);

#endif /* IRQROUTE_TRACE_H */

/* The rest is for define_trace.h: this file, found through -I. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
