#pragma once
#include "app/gui/state/document.h"

namespace segxai::app {

// The Instances tab: every connected structure of the segmentation (index, class, volume,
// mean probability, centroid, and with the ensemble's uncertainty its entropy, mutual
// information, share of members that find it and volume CV), sortable; a click or N / P
// selects one and moves the views to it; "Explain this instance" runs every comparison panel
// with it as the target.
class InstancesPanel {
public:
    void draw(Document& document);

private:
    std::vector<int> m_order; // list indices in display order
    int m_sortColumn = 0;
    bool m_ascending = true;
    const InstanceSet* m_sorted = nullptr;
};

// N / P (when no text field has focus): next / previous instance, in the list's order.
void stepInstances(Document& document, int step);

} // namespace segxai::app
