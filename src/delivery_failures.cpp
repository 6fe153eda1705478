// node_core, what becomes of what cannot be delivered: a request is answered with a failure reply (a
// coactor::error), any other envelope is a dead letter, counted and reported to the error hook.
#include <coactor/detail/node_core.hpp>

#include <string>
#include <utility>

namespace coactor::detail {

void node_core::undeliverable(const pid& to, envelope* e, errc why) noexcept {
  try {
    undeliverable(to, e, error(why, (why == errc::dead_process ? "no process " : "no route to ") + to.to_string()));
  } catch (...) {
    destroy(e);
  }
}

void node_core::undeliverable(const pid& to, envelope* e, const error& why) noexcept {
  if (e->kind == envelope_kind::request) {
    fail_request(e->from, e->tag, to, why);
    destroy(e);
    return;
  }
  counters_.count_dead_letter();
  const char* what = e->kind == envelope_kind::reply     ? "reply"
                     : e->kind == envelope_kind::failure ? "failure reply"
                                                         : "message";
  std::string type(e->type ? e->type->name : std::string_view("?"));
  const pid who = is_local(to) ? to : e->from;  // the process of this node the report is about
  destroy(e);
  try {
    report(error(why.code(), std::string(what) + " of type " + type + " dropped: " + why.detail()), who);
  } catch (...) {
  }
}

void node_core::fail_request(const pid& requester, std::uint64_t tag, const pid& from, error why) noexcept {
  try {
    envelope* f = make_envelope<error>(std::move(why));
    f->kind = envelope_kind::failure;
    f->tag = tag;
    f->from = from;
    route(requester, f);
  } catch (...) {
    // Out of memory while reporting a failure: the requester will time out instead.
  }
}

void node_core::reply_error(const envelope* req, const pid& self, error why) noexcept {
  if (!req) return;
  try {
    if (why.code().category() != error_category()) why = error(errc::rejected, why.message());
    if (req->kind == envelope_kind::request) return fail_request(req->from, req->tag, self, std::move(why));
    report(error(why.code(), "an error in reply to a plain message from " + req->from.to_string() + ": " + why.detail()),
           self);
  } catch (...) {
    // Out of memory while building the texts: the requester will time out instead.
  }
}

}  // namespace coactor::detail
