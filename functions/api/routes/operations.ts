import { z } from 'zod';
import { redriveDeadLetters } from '../../service/jobs/dead-letters.ts';
import { defineRoute } from '../http/route.ts';

/** What an operator does after fixing the cause of failed work. */
export const operationsRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/dead-letters/redrive',
    operationId: 'redriveDeadLetters',
    summary: 'Send the dead-letter queue back to the workers, and run its FAILED jobs again',
    description:
      'For administrators, after the cause of the failures is fixed. Jobs keep their attempt count; each message leaves the dead-letter queue only once it is back on the work queue.',
    tags: ['Operations'],
    admin: true,
    success: {
      status: 200,
      description: 'What was redriven',
      schema: z.object({ messages: z.number().int(), jobs: z.array(z.string()) }).meta({ id: 'RedriveOutcome' }),
    },
    handle: async (_, s) => ({ status: 200, body: await redriveDeadLetters(s) }),
  }),
];
