/**
 * ImageNet's 1000 classes grouped into a small hierarchy, as data: Keras class index ranges
 * (inclusive) to a group path. ImageNet's own WordNet tree is too deep to be useful as photo
 * tags ("placental > carnivore > canine > dog > hunting dog > ..."), so the groups here are
 * the ones a photo library wants: every one of the 118 dog breeds (151–268) becomes
 * animal › dog, the five domestic cats (281–285) animal › cat, and so on. Man-made objects
 * (398–923, scattered in ImageNet's order) stay flat under their own label.
 *
 * The ranges were read off Keras' imagenet_class_index.json; the test checks their edges
 * against that file.
 */
export interface HierarchyGroup {
  /** Inclusive Keras class index ranges. */
  ranges: readonly (readonly [number, number])[];
  /** The group path below the tag root, most general first. */
  path: readonly string[];
}

export const IMAGENET_GROUPS: readonly HierarchyGroup[] = [
  { ranges: [[0, 6], [389, 397]], path: ['animal', 'fish'] },
  { ranges: [[7, 24], [80, 100], [127, 146]], path: ['animal', 'bird'] },
  { ranges: [[25, 32]], path: ['animal', 'amphibian'] },
  { ranges: [[33, 68]], path: ['animal', 'reptile'] },
  { ranges: [[69, 79]], path: ['animal', 'arthropod'] },
  { ranges: [[101, 106], [147, 150], [298, 299], [330, 388]], path: ['animal', 'mammal'] },
  { ranges: [[107, 126], [327, 329]], path: ['animal', 'invertebrate'] },
  { ranges: [[151, 268]], path: ['animal', 'dog'] },
  { ranges: [[269, 280]], path: ['animal', 'wild dog'] },
  { ranges: [[281, 285]], path: ['animal', 'cat'] },
  { ranges: [[286, 293]], path: ['animal', 'big cat'] },
  { ranges: [[294, 297]], path: ['animal', 'bear'] },
  { ranges: [[300, 326]], path: ['animal', 'insect'] },
  { ranges: [[924, 969]], path: ['food'] },
  { ranges: [[970, 980]], path: ['landscape'] },
  { ranges: [[981, 983]], path: ['person'] },
  { ranges: [[984, 998]], path: ['plant'] },
];

/** The group path of a Keras class index, or [] when the class is not grouped. */
export function groupPathOf(classIndex: number): readonly string[] {
  for (const group of IMAGENET_GROUPS) {
    for (const [from, to] of group.ranges) {
      if (classIndex >= from && classIndex <= to) return group.path;
    }
  }
  return [];
}
