import type { ProjectItem } from '../store/project-repository.ts';

/** A named kind of anomaly a project reports, with the colour its pixels get in a segmentation mask. */
export interface AnomalyType {
  name: string;
  /** `#RRGGBB`. */
  color: string;
}

/** What is not anomalous, as Lookout for Vision names and colours it. */
export const BACKGROUND: AnomalyType = { name: 'background', color: '#FFFFFF' };

/**
 * The anomaly types of a project. One, "anomaly", for every project until projects carry defect types of their own
 * (the issue "Bring your own model"); that change extends this function, and every caller follows.
 */
export function anomalyTypes(_project: Pick<ProjectItem, 'id'>): AnomalyType[] {
  return [{ name: 'anomaly', color: '#FF0000' }];
}
