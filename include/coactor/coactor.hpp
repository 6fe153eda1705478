// coactor: the whole public API of the core in one include (Asio integration excepted: asio.hpp).
#pragma once

#include <coactor/address_book.hpp>
#include <coactor/context.hpp>
#include <coactor/error.hpp>
#include <coactor/exit_reason.hpp>
#include <coactor/make.hpp>
#include <coactor/message.hpp>
#include <coactor/monitor.hpp>
#include <coactor/node.hpp>
#include <coactor/node_address.hpp>
#include <coactor/node_events.hpp>
#include <coactor/peer_stats.hpp>
#include <coactor/pid.hpp>
#include <coactor/process.hpp>
#include <coactor/process_name.hpp>
#include <coactor/result.hpp>
#include <coactor/scheduler.hpp>
#include <coactor/supervisor.hpp>
#include <coactor/thread_pool.hpp>
#include <coactor/time.hpp>
