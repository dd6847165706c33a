/**
 * Learning-rate schedules of the official training loops.
 *
 * train_diffusion.py builds `CosineAnnealingLR(optimizer, T_max=len(data_loader), eta_min=0)` (T_max is the number of
 * steps of an epoch, used as a number of epochs) and steps it once at the end of each epoch whose number (from 1) is
 * at least 5. So in epoch e (from 0) the rate is the cosine after max(0, e - 4) scheduler steps:
 * lr_e = lr (1 + cos(pi n / T_max)) / 2. With the official 797 steps per epoch and 500 epochs it decays to about 40%.
 */
export function officialCosineRate(baseLr: number, epoch: number, stepsPerEpoch: number, startEpoch = 5): number {
  const n = Math.max(0, epoch - (startEpoch - 1));
  return (baseLr * (1 + Math.cos((Math.PI * n) / stepsPerEpoch))) / 2;
}
