import type { CliCommand } from '../cli/command';
import { MerchantsModule } from './merchants.module';
import { SettlementService } from './settlement.service';

export const merchantCommands: CliCommand[] = [
  {
    name: 'settlement:run',
    usage: 'settlement:run [--date YYYY-MM-DD]',
    options: { date: { type: 'string' } },
    summary: 'Settle merchants for a business date (default: yesterday) and write the payout CSV (idempotent)',
    modules: [MerchantsModule],
    async run(context, options) {
      const settlement = context!.get(SettlementService);
      const date = typeof options.date === 'string' ? options.date : undefined;
      console.log(JSON.stringify(await settlement.settle(date), null, 2));
    },
  },
];
