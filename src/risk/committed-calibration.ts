/* The calibration `npm run calibrate` committed, parsed once: what production risk figures use. */
import calibrationJson from './calibration.json';
import { calibrationSchema, type Calibration } from './calibration';

export const COMMITTED_CALIBRATION: Calibration = calibrationSchema.parse(calibrationJson);
