"""Background work: task queues (SQS), schedules (EventBridge) and workflows (Step Functions).

Flow: a service enqueues a task (or starts a workflow); a queue consumer runs the task's handler
with the original request's event context restored; a workflow hands each provider step to a worker
over SQS and waits for its answer (task token).
"""
