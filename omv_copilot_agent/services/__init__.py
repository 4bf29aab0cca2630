"""What the agent can be asked, independent of how it is asked (REST, OMV's RPC, the CLI in-process).

:mod:`~omv_copilot_agent.services.operations` is the one table of operations; each
handler takes a :class:`~omv_copilot_agent.services.call.Call` and answers plain data or
raises :class:`~omv_copilot_agent.services.errors.ServiceError`. Nothing here imports
Flask or knows a status code.
"""
