#include <coactor/detail/node_core.hpp>
#include <coactor/detail/router.hpp>
#include <coactor/wire/frame.hpp>

#include <cstring>

namespace coactor::detail {
namespace {

wire::frame_kind kind_of(envelope_kind k) noexcept {
  switch (k) {
    case envelope_kind::request: return wire::frame_kind::request;
    case envelope_kind::reply: return wire::frame_kind::reply;
    case envelope_kind::failure: return wire::frame_kind::failure;
    default: return wire::frame_kind::message;
  }
}

envelope_kind kind_of(wire::frame_kind k) noexcept {
  switch (k) {
    case wire::frame_kind::request: return envelope_kind::request;
    case wire::frame_kind::reply: return envelope_kind::reply;
    case wire::frame_kind::failure: return envelope_kind::failure;
    default: return envelope_kind::message;
  }
}

// Outgoing frames are built here, one at a time per thread, then copied by the transport.
thread_local std::string scratch;

}  // namespace

router::router(node_core& node, std::unique_ptr<transport> t, codec format, const decode_limits& limits,
               std::shared_ptr<address_book> addresses)
    : node_(node),
      transport_(std::move(t)),
      limits_(limits),
      addresses_(std::move(addresses)),
      book_(addresses_ ? addresses_.get() : &address_book::process()) {
  identity_.incarnation = node.incarnation();
  identity_.name = node.name();
  identity_.format = format;
  transport_->attach(*this);
}

router::~router() = default;

coactor::scheduler& router::scheduler() noexcept { return node_.scheduler(); }

result<node_address> router::listen(std::string_view address) {
  auto bound = transport_->listen(address);
  if (bound) identity_.address = bound->to_string();
  return bound;
}

void router::shutdown() { transport_->shutdown(); }

result<void> router::encode(std::string& out, const pid& to, std::string_view to_name, const envelope& e) {
  const bool opaque = e.type == &opaque_type;
  // An opaque message keeps the codec it came in; a reply goes in its request's (wire_codec), so that a
  // peer that reads only JSON gets JSON back; anything else in the node's codec.
  const codec format = opaque           ? static_cast<const opaque_payload*>(e.payload())->format
                       : e.wire_codec != 0 ? static_cast<codec>(e.wire_codec)
                                           : identity_.format;
  const wire_context ctx{identity_.incarnation, identity_.address, book_};
  const bool failure = e.kind == envelope_kind::failure;
  const std::size_t start = wire::begin_frame(out, kind_of(e.kind), failure ? codec{} : format,
                                              to_name.empty() ? 0 : wire::flag_to_name);
  std::string_view type;
  if (opaque)
    type = static_cast<const opaque_payload*>(e.payload())->type_name;
  else if (!failure)
    type = e.type->name;
  wire::write_envelope_fields(out, to, to_name, e.from, e.tag, type, ctx, !failure);
  if (failure) {
    const auto& why = *static_cast<const error*>(e.payload());
    const bool ours = why.code().category() == error_category();
    wire::write_status(out, ours ? why.code().value() : static_cast<int>(errc::io), ours ? why.detail() : why.message());
  } else if (opaque) {
    out += static_cast<const opaque_payload*>(e.payload())->bytes;
  } else if (!e.type->encode) {
    return error(errc::not_serializable, "type " + std::string(e.type->name) + " cannot leave this node");
  } else if (auto r = e.type->encode(e.payload(), format, out, ctx); !r) {
    return r.error();
  }
  wire::end_frame(out, start);
  return {};
}

void router::send_frame(const peer_ref& peer, const pid& to, std::string_view to_name, envelope* e) noexcept {
  std::string& out = scratch;
  out.clear();
  result<void> encoded = [&]() -> result<void> {
    try {
      return encode(out, to, to_name, *e);
    } catch (const std::exception& ex) {
      return error(errc::bad_message, ex.what());
    }
  }();
  if (!encoded) {
    node_.undeliverable(to, e, encoded.error());
    return;
  }
  destroy(e);
  transport_->send(peer, out);
}

void router::send(const pid& to, envelope* e) noexcept {
  send_frame(peer_ref{to.incarnation(), to.address()}, to, {}, e);
}

void router::send_to_name(std::string_view address, std::string_view name, envelope* e) noexcept {
  send_frame(peer_ref{0, address}, pid{}, name, e);
}

envelope* router::decode(const wire::frame_view& f, error& why) {
  if (f.kind == wire::frame_kind::failure) {
    auto status = wire::read_status(f.payload);
    if (!status) {
      why = status.error();
      return nullptr;
    }
    return make_envelope<error>(status->to_error());
  }
  const message_type* t = find_type(f.type);
  if (t == &ambiguous_type) {
    why = error(errc::unknown_type, "two C++ types on this node share the wire name '" + std::string(f.type) + "'");
    return nullptr;
  }
  if (!t || !t->decode) {  // a type this node does not know: keep it as it came
    return make_opaque_envelope(opaque_payload{f.format, std::string(f.type), std::string(f.payload)});
  }
  envelope* e = allocate_envelope(*t);
  const wire_context ctx{identity_.incarnation, identity_.address, book_};
  if (auto r = t->decode(e->payload(), f.format, f.payload, limits_, ctx); !r) {
    free_unconstructed(e);
    why = r.error();
    return nullptr;
  }
  return e;
}

result<void> router::deliver(const node_identity& from, std::string_view frame) {
  wire::request_salvage salvage;
  auto parsed = wire::parse_frame(frame, identity_.incarnation, from.address, &salvage, book_);
  if (!parsed) {
    bad_frames_.fetch_add(1, std::memory_order_relaxed);
    error bad(parsed.error().code(), "frame from " + from.name + " (" + from.address + "): " + parsed.error().detail());
    // A request whose sender and tag could be read is answered (with what was wrong), never left to
    // time out; the frame is refused all the same (a per-message ack says so too).
    if (salvage.answerable) node_.fail_request(salvage.from, salvage.tag, pid{}, error(bad.code(), parsed.error().detail()));
    node_.report(bad, {});
    return bad;
  }
  const wire::frame_view& f = *parsed;
  if (!wire::is_data(f.kind)) {  // the transport's own frames, never a node's
    bad_frames_.fetch_add(1, std::memory_order_relaxed);
    error bad(errc::protocol, "unexpected frame of kind " + std::to_string(static_cast<int>(f.kind)) + " from " +
                                  from.name + " (" + from.address + ")");
    node_.report(bad, {});
    return bad;
  }
  // The target: a registered name, or a pid of this incarnation (a pid of an earlier incarnation of
  // this node names a process that is gone).
  pid to = f.to;
  errc unreachable{};
  if (f.flags & wire::flag_to_name) {
    auto found = node_.whereis(f.to_name);
    if (found)
      to = *found;
    else
      unreachable = errc::no_such_name;
  } else if (to.incarnation() != identity_.incarnation) {
    unreachable = errc::dead_process;
  }
  error why{std::error_code{}};
  envelope* e = nullptr;
  try {
    e = decode(f, why);
  } catch (const std::exception& ex) {
    why = error(errc::bad_message, ex.what());
  }
  if (!e) {
    bad_frames_.fetch_add(1, std::memory_order_relaxed);
    const error bad(why.code(), "message from " + f.from.to_string() + ": " + why.detail());
    if (f.kind == wire::frame_kind::request)
      node_.fail_request(f.from, f.tag, to, bad);
    else
      node_.report(bad, f.from);
    return bad;
  }
  e->from = f.from;
  e->tag = f.tag;
  e->kind = kind_of(f.kind);
  e->wire_codec = static_cast<std::uint8_t>(f.format);  // a reply to it goes back in this codec
  if (e->type == &type_of<signal_message>()) {  // a monitor, link or exit signal: for the node itself
    node_.take_signal(to, unreachable, e);
    return {};
  }
  if (unreachable != errc{}) {
    const std::string target = (f.flags & wire::flag_to_name) ? "'" + std::string(f.to_name) + "'" : to.to_string();
    node_.undeliverable(to, e, error(unreachable, target));
    return {};
  }
  node_.route(to, e);
  return {};
}

void router::undeliverable(std::string_view frame, const error& why) {
  // Our own frame, back from the transport: re-read who sent it to whom, and answer for it.
  auto parsed = wire::parse_frame(frame, identity_.incarnation, {}, nullptr, book_);
  if (!parsed) {
    node_.report(why, {});
    return;
  }
  const wire::frame_view& f = *parsed;
  if (f.type == signal_message::coactor_name) {  // a signal: what its target would have answered
    signal_message s;
    const wire_context ctx{identity_.incarnation, identity_.address, book_};
    const result<void> read = f.format == codec::json ? json::decode_into(f.payload, s, limits_, ctx)
                                                      : binary::decode_into(f.payload, s, limits_, ctx);
    if (read) node_.signal_undeliverable(f.from, f.to, s);
    return;
  }
  std::string target;
  if (f.flags & wire::flag_to_name)
    target.append("'").append(f.to_name).append("'");
  else
    target = f.to.to_string();
  if (f.kind == wire::frame_kind::request) {
    node_.fail_request(f.from, f.tag, f.to, error(why.code(), target + ": " + why.detail()));
  } else {
    node_.count_dead_letter();
    node_.report(error(why.code(), std::string(f.kind == wire::frame_kind::message ? "message"
                                                 : f.kind == wire::frame_kind::reply ? "reply"
                                                                                     : "failure reply") +
                                       " of type " + std::string(f.type) + " to " + target + " failed: " + why.detail()),
                 f.from);
  }
}

void router::report(const error& what) { node_.report(what, {}); }

void router::peer_up(const node_identity& peer) { node_.peer_up(peer); }

void router::peer_down(const node_identity& peer, const error& why) { node_.peer_down(peer, why); }

void router::room(const node_identity& peer) { node_.room(peer.incarnation, peer.address); }

}  // namespace coactor::detail
