import 'reflect-metadata';
import { bootstrap, exitOnStartupError } from './main';

/** The BullMQ worker alone (same as MONEDERO_ROLE=worker npm start). */
bootstrap('worker').catch(exitOnStartupError);
