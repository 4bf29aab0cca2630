-- Assistant traces: the chosen context and total duration, for the trace list without parsing JSON.
ALTER TABLE assist_traces ADD COLUMN context TEXT;
ALTER TABLE assist_traces ADD COLUMN duration_ms REAL;
