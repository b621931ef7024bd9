"""Knowledge consumer Lambda: the knowledge queue's outbox events (article embeddings,
drafts from resolved tickets), see servicedesk.kb.consumer. Partial batch failures."""

import servicedesk.kb.drafts  # noqa: F401 - registers its process in kb.consumer.PROCESSES
from servicedesk.kb.consumer import process
from servicedesk.platform.consumer import sqs_handler

lambda_handler = sqs_handler(process)
